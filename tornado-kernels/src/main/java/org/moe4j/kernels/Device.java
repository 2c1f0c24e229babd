package org.moe4j.kernels;

/**
 * Where kernels run and their arrays live. Arrays are the handles: a kernel is launched with Java
 * arrays, and a device that keeps its own copy of an array (an accelerator) maps the host array to
 * it, as TornadoVM does. {@link #copyToDevice} and {@link #copyToHost} say when the host and
 * device copies must agree; on the JVM device both are the same memory and they cost nothing.
 *
 * <p>Launches run in order: a launch sees the results of every launch before it on the same device.
 */
public interface Device extends AutoCloseable {

    /** Short name, as given to {@code --device} ({@code jvm}, {@code opencl:0}). */
    String name();

    /** A new zeroed float array that kernels of this device may use. */
    default float[] allocateFloats(int length) {
        return new float[length];
    }

    /** A new zeroed int array that kernels of this device may use. */
    default int[] allocateInts(int length) {
        return new int[length];
    }

    /** The host has written {@code array}: the device copy must match it before the next launch. */
    default void copyToDevice(Object array) {
    }

    /** The host is about to read {@code array}: bring back what kernels wrote to it. */
    default void copyToHost(Object array) {
    }

    /** The array will not be used by kernels again; a device may free its copy. */
    default void release(Object array) {
    }

    /**
     * Waits until every launch so far has finished: for timing, since a device may run launches
     * after {@link #launch} returns. On the JVM a launch has finished when it returns.
     */
    default void finish() {
    }

    /**
     * Whether a GEMM with an elementwise step in its store ({@code BatchedGemm.matmulBiasGelu})
     * runs faster here than the plain GEMM and a separate elementwise pass. True where the GEMMs
     * are this library's kernels; false where the plain GEMMs go to a vendor library that the
     * fused kernels cannot use (cuBLAS).
     */
    default boolean fusesGemmEpilogues() {
        return true;
    }

    /** Runs one launch; the typed {@code launch} overloads build it. */
    void launch(Launch launch);

    @Override
    default void close() {
    }

    default <A> void launch(Grid grid, Kernel1<A> kernel, A a) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a), new Object[] {a}));
    }

    default <A, B> void launch(Grid grid, Kernel2<A, B> kernel, A a, B b) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b), new Object[] {a, b}));
    }

    default <A, B, C> void launch(Grid grid, Kernel3<A, B, C> kernel, A a, B b, C c) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c), new Object[] {a, b, c}));
    }

    default <A, B, C, D> void launch(Grid grid, Kernel4<A, B, C, D> kernel, A a, B b, C c, D d) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d), new Object[] {a, b, c, d}));
    }

    default <A, B, C, D, E> void launch(Grid grid, Kernel5<A, B, C, D, E> kernel, A a, B b, C c, D d, E e) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e), new Object[] {a, b, c, d, e}));
    }

    default <A, B, C, D, E, F> void launch(Grid grid, Kernel6<A, B, C, D, E, F> kernel, A a, B b, C c, D d, E e, F f) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f), new Object[] {a, b, c, d, e, f}));
    }

    default <A, B, C, D, E, F, G> void launch(Grid grid, Kernel7<A, B, C, D, E, F, G> kernel, A a, B b, C c, D d, E e, F f, G g) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g), new Object[] {a, b, c, d, e, f, g}));
    }

    default <A, B, C, D, E, F, G, H> void launch(Grid grid, Kernel8<A, B, C, D, E, F, G, H> kernel, A a, B b, C c, D d, E e, F f, G g, H h) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g, h), new Object[] {a, b, c, d, e, f, g, h}));
    }

    default <A, B, C, D, E, F, G, H, I> void launch(Grid grid, Kernel9<A, B, C, D, E, F, G, H, I> kernel, A a, B b, C c, D d, E e, F f, G g, H h, I i) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g, h, i), new Object[] {a, b, c, d, e, f, g, h, i}));
    }

    default <A, B, C, D, E, F, G, H, I, J> void launch(Grid grid, Kernel10<A, B, C, D, E, F, G, H, I, J> kernel, A a, B b, C c, D d, E e, F f, G g, H h, I i, J j) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g, h, i, j), new Object[] {a, b, c, d, e, f, g, h, i, j}));
    }

    default <A, B, C, D, E, F, G, H, I, J, K> void launch(Grid grid, Kernel11<A, B, C, D, E, F, G, H, I, J, K> kernel, A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g, h, i, j, k), new Object[] {a, b, c, d, e, f, g, h, i, j, k}));
    }

    default <A, B, C, D, E, F, G, H, I, J, K, L> void launch(Grid grid, Kernel12<A, B, C, D, E, F, G, H, I, J, K, L> kernel, A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g, h, i, j, k, l), new Object[] {a, b, c, d, e, f, g, h, i, j, k, l}));
    }

    default <A, B, C, D, E, F, G, H, I, J, K, L, M> void launch(Grid grid, Kernel13<A, B, C, D, E, F, G, H, I, J, K, L, M> kernel, A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l, M m) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g, h, i, j, k, l, m), new Object[] {a, b, c, d, e, f, g, h, i, j, k, l, m}));
    }

    default <A, B, C, D, E, F, G, H, I, J, K, L, M, N> void launch(Grid grid, Kernel14<A, B, C, D, E, F, G, H, I, J, K, L, M, N> kernel, A a, B b, C c, D d, E e, F f, G g, H h, I i, J j, K k, L l, M m, N n) {
        launch(new Launch(grid, kernel, context -> kernel.run(context, a, b, c, d, e, f, g, h, i, j, k, l, m, n), new Object[] {a, b, c, d, e, f, g, h, i, j, k, l, m, n}));
    }
}
