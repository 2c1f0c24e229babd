package org.moe4j.kernels.compiler;

/**
 * One parameter of a compiled kernel, after its {@code KernelContext}, in declaration order.
 *
 * @param name    the Java parameter name where the class file has it, else {@code p<slot>}
 * @param kind    its type
 * @param written for arrays: whether the kernel, or a helper it calls, may store into it
 */
public record KernelParam(String name, Kind kind, boolean written) {

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
