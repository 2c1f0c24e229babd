package org.moe4j.kernels.compiler;

/**
 * One parameter of a compiled kernel, after its {@code KernelContext}, in declaration order.
 *
 * @param name    the Java parameter name where the class file has it, else {@code p<slot>}
 * @param kind    its type
 * @param written for arrays: whether the kernel, or a helper it calls, may store into it
 */
public record KernelParam(String name, Kind kind, boolean written) {

    /**
     * {@code argument} checked against this parameter: an array of the element type, or a boxed
     * scalar of the type, unboxed ({@code boolean}, {@code byte}, {@code short} and {@code char} as
     * an {@code Integer}, as the kernel reads them).
     *
     * @param kernel the kernel's name, for the message
     * @throws IllegalArgumentException naming the parameter, its type and what was given
     */
    public Object check(String kernel, Object argument) {
        Object checked = switch (kind) {
            case FLOAT_ARRAY -> argument instanceof float[] ? argument : null;
            case INT_ARRAY -> argument instanceof int[] ? argument : null;
            case LONG_ARRAY -> argument instanceof long[] ? argument : null;
            case DOUBLE_ARRAY -> argument instanceof double[] ? argument : null;
            case INT -> switch (argument) {
                case Integer i -> i;
                case Boolean b -> b ? 1 : 0;
                case Short v -> (int) v;
                case Byte v -> (int) v;
                case Character c -> (int) c;
                case null, default -> null;
            };
            case LONG -> argument instanceof Long ? argument : null;
            case FLOAT -> argument instanceof Float ? argument : null;
            case DOUBLE -> argument instanceof Double ? argument : null;
        };
        if (checked == null) {
            throw new IllegalArgumentException(kernel + ": parameter " + name + " is a " + kind + ", got "
                    + (argument == null ? "null" : argument.getClass().getSimpleName()));
        }
        return checked;
    }

    /** Parameter types a kernel may take. */
    public enum Kind {
        INT, LONG, FLOAT, DOUBLE, INT_ARRAY, LONG_ARRAY, FLOAT_ARRAY, DOUBLE_ARRAY;

        public boolean isArray() {
            return ordinal() >= INT_ARRAY.ordinal();
        }

        /** Bytes per value (per element for arrays). */
        public int bytes() {
            return switch (this) {
                case INT, FLOAT, INT_ARRAY, FLOAT_ARRAY -> 4;
                case LONG, DOUBLE, LONG_ARRAY, DOUBLE_ARRAY -> 8;
            };
        }
    }
}
