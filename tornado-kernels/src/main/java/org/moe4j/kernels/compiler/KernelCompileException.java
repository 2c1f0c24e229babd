package org.moe4j.kernels.compiler;

/**
 * A kernel uses a construct the compiler does not translate. Thrown before anything is launched;
 * the message names the kernel, the class and method holding the construct (the kernel itself or
 * a helper it calls), the bytecode offset and, where the class file has it, the source line.
 */
public final class KernelCompileException extends RuntimeException {
    private final String kernel;
    private final String className;
    private final String methodName;
    private final int bytecodeOffset;
    private final String construct;

    /**
     * @param kernel         the kernel being compiled ({@code Softmax.softmaxForward})
     * @param className      binary name of the class holding the construct, with dots
     * @param methodName     the method holding it
     * @param bytecodeOffset offset of the instruction, or -1 when the construct is the method itself
     * @param line           source line, or -1 when unknown
     * @param construct      what is not supported, and what is
     */
    public KernelCompileException(String kernel, String className, String methodName, int bytecodeOffset, int line,
                                  String construct) {
        super("cannot compile kernel " + kernel + ": " + construct + ", in " + className + "." + methodName
                + (bytecodeOffset >= 0 ? " at bytecode offset " + bytecodeOffset : "")
                + (line > 0 ? " (source line " + line + ")" : ""));
        this.kernel = kernel;
        this.className = className;
        this.methodName = methodName;
        this.bytecodeOffset = bytecodeOffset;
        this.construct = construct;
    }

    /** The kernel being compiled, {@code Class.method}. */
    public String kernel() {
        return kernel;
    }

    /** Binary name (with dots) of the class whose method holds the construct. */
    public String className() {
        return className;
    }

    public String methodName() {
        return methodName;
    }

    /** Offset of the offending instruction in its method's bytecode; -1 for the method as a whole. */
    public int bytecodeOffset() {
        return bytecodeOffset;
    }

    /** The construct, in words. */
    public String construct() {
        return construct;
    }
}
