package org.moe4j.kernels;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;
import java.util.function.Consumer;

/**
 * The always-available device: runs a kernel's grid on a fork/join pool sized to the cores.
 *
 * <p>Kernels without barriers run their work-items one after another inside a task, ranges of
 * work-groups spread over the pool. Kernels that call {@link KernelContext#localBarrier()} (found
 * by reading their bytecode) run each work-group's items as virtual threads that meet at a real
 * barrier, so they compute exactly what they would on an accelerator.
 *
 * <p>A portable kernel may have a hand-tuned whole-launch override (the Vector-API GEMM, say);
 * it runs inside the device's pool (so it may fork) and is used unless the system property {@code moe4j.portable=true} forces the portable kernels.
 * Launches are deterministic: every work-item writes its own outputs, so the schedule cannot change
 * a result.
 */
public final class JvmDevice implements Device {

    /** System property that makes the device ignore overrides and run every portable kernel. */
    public static final String FORCE_PORTABLE = "moe4j.portable";

    private final ForkJoinPool pool;
    private final Map<KernelMethod, Consumer<Object[]>> overrides = new ConcurrentHashMap<>();
    private final boolean portableOnly;

    /** A device using all available processors, overrides enabled unless {@value #FORCE_PORTABLE} is set. */
    public JvmDevice() {
        this(Runtime.getRuntime().availableProcessors(), Boolean.getBoolean(FORCE_PORTABLE));
    }

    public JvmDevice(int threads, boolean portableOnly) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        this.pool = new ForkJoinPool(threads);
        this.portableOnly = portableOnly;
    }

    @Override
    public String name() {
        return "jvm";
    }

    public int threads() {
        return pool.getParallelism();
    }

    /** Whether overrides are ignored. */
    public boolean portableOnly() {
        return portableOnly;
    }

    @Override
    public void launch(Launch launch) {
        if (!portableOnly) {
            Consumer<Object[]> override = overrides.get(KernelMethod.of(launch.kernel()));
            if (override != null) {
                // Inside the pool, so that an override that forks splits its work over these threads.
                pool.invoke(ForkJoinTask.adapt(() -> override.accept(launch.args())));
                return;
            }
        }
        Grid grid = launch.grid();
        int groups = grid.groupsX() * grid.groupsY();
        if (groups == 0) {
            return;
        }
        boolean barrier = KernelMethod.of(launch.kernel()).usesBarrier();
        int chunk = Math.max(1, groups / (4 * pool.getParallelism()));
        pool.invoke(new GroupRange(launch.body(), grid, barrier, 0, groups, chunk));
    }

    private void register(KernelRef portable, Consumer<Object[]> host) {
        overrides.put(KernelMethod.of(portable), host);
    }

    /** Work-groups {@code [from, to)} of one launch, split until a range is at most {@code chunk}. */
    private static final class GroupRange extends RecursiveAction {
        private final WorkItem body;
        private final Grid grid;
        private final boolean barrier;
        private final int from;
        private final int to;
        private final int chunk;

        GroupRange(WorkItem body, Grid grid, boolean barrier, int from, int to, int chunk) {
            this.body = body;
            this.grid = grid;
            this.barrier = barrier;
            this.from = from;
            this.to = to;
            this.chunk = chunk;
        }

        @Override
        protected void compute() {
            if (to - from > chunk) {
                int mid = (from + to) >>> 1;
                invokeAll(new GroupRange(body, grid, barrier, from, mid, chunk),
                        new GroupRange(body, grid, barrier, mid, to, chunk));
                return;
            }
            if (barrier) {
                for (int g = from; g < to; g++) {
                    runGroupWithBarrier(g);
                }
            } else {
                WorkGroup shared = new WorkGroup(0);
                KernelContext context = newContext(shared);
                for (int g = from; g < to; g++) {
                    shared.clear();
                    setGroup(context, g);
                    for (int ly = 0; ly < grid.localY(); ly++) {
                        for (int lx = 0; lx < grid.localX(); lx++) {
                            setLocal(context, lx, ly);
                            body.run(context);
                        }
                    }
                }
            }
        }

        private void runGroupWithBarrier(int group) {
            int size = grid.localSize();
            WorkGroup shared = new WorkGroup(size);
            Thread[] items = new Thread[size];
            Throwable[] failure = new Throwable[1];
            for (int i = 0; i < size; i++) {
                KernelContext context = newContext(shared);
                setGroup(context, group);
                setLocal(context, i % grid.localX(), i / grid.localX());
                items[i] = Thread.ofVirtual().unstarted(() -> {
                    try {
                        body.run(context);
                    } catch (Throwable e) {
                        // The first failure is the cause; work-items it wakes at the barrier fail after it.
                        synchronized (failure) {
                            if (failure[0] == null) {
                                failure[0] = e;
                            }
                        }
                        shared.fail(e);
                        return;
                    }
                    shared.exit();
                });
            }
            for (Thread item : items) {
                item.start();
            }
            for (Thread item : items) {
                try {
                    item.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while running a work-group", e);
                }
            }
            if (failure[0] != null) {
                throw new IllegalStateException("work-item of group " + group + " failed", failure[0]);
            }
        }

        private KernelContext newContext(WorkGroup shared) {
            KernelContext context = new KernelContext(shared);
            context.globalGroupSizeX = grid.globalX();
            context.globalGroupSizeY = grid.globalY();
            context.localGroupSizeX = grid.localX();
            context.localGroupSizeY = grid.localY();
            return context;
        }

        private void setGroup(KernelContext context, int group) {
            context.groupIdx = group % grid.groupsX();
            context.groupIdy = group / grid.groupsX();
            context.resetLocalArrays();
        }

        private void setLocal(KernelContext context, int lx, int ly) {
            context.localIdx = lx;
            context.localIdy = ly;
            context.globalIdx = context.groupIdx * grid.localX() + lx;
            context.globalIdy = context.groupIdy * grid.localY() + ly;
            context.resetLocalArrays();
        }
    }

    @Override
    public void close() {
        pool.shutdown();
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A> void override(Kernel1<A> portable, HostKernel1<A> host) {
        register(portable, args -> host.run((A) args[0]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B> void override(Kernel2<A, B> portable, HostKernel2<A, B> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C> void override(Kernel3<A, B, C> portable, HostKernel3<A, B, C> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D> void override(Kernel4<A, B, C, D> portable, HostKernel4<A, B, C, D> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E> void override(Kernel5<A, B, C, D, E> portable, HostKernel5<A, B, C, D, E> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F> void override(Kernel6<A, B, C, D, E, F> portable, HostKernel6<A, B, C, D, E, F> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G> void override(Kernel7<A, B, C, D, E, F, G> portable, HostKernel7<A, B, C, D, E, F, G> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G, H> void override(Kernel8<A, B, C, D, E, F, G, H> portable, HostKernel8<A, B, C, D, E, F, G, H> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6], (H) args[7]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G, H, I> void override(Kernel9<A, B, C, D, E, F, G, H, I> portable, HostKernel9<A, B, C, D, E, F, G, H, I> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6], (H) args[7], (I) args[8]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G, H, I, J> void override(Kernel10<A, B, C, D, E, F, G, H, I, J> portable, HostKernel10<A, B, C, D, E, F, G, H, I, J> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6], (H) args[7], (I) args[8], (J) args[9]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G, H, I, J, K> void override(Kernel11<A, B, C, D, E, F, G, H, I, J, K> portable, HostKernel11<A, B, C, D, E, F, G, H, I, J, K> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6], (H) args[7], (I) args[8], (J) args[9], (K) args[10]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G, H, I, J, K, L> void override(Kernel12<A, B, C, D, E, F, G, H, I, J, K, L> portable, HostKernel12<A, B, C, D, E, F, G, H, I, J, K, L> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6], (H) args[7], (I) args[8], (J) args[9], (K) args[10], (L) args[11]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G, H, I, J, K, L, M> void override(Kernel13<A, B, C, D, E, F, G, H, I, J, K, L, M> portable, HostKernel13<A, B, C, D, E, F, G, H, I, J, K, L, M> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6], (H) args[7], (I) args[8], (J) args[9], (K) args[10], (L) args[11], (M) args[12]));
    }

    /** Runs {@code host} instead of {@code portable} on this device unless portable kernels are forced. */
    @SuppressWarnings("unchecked")
    public <A, B, C, D, E, F, G, H, I, J, K, L, M, N> void override(Kernel14<A, B, C, D, E, F, G, H, I, J, K, L, M, N> portable, HostKernel14<A, B, C, D, E, F, G, H, I, J, K, L, M, N> host) {
        register(portable, args -> host.run((A) args[0], (B) args[1], (C) args[2], (D) args[3], (E) args[4], (F) args[5], (G) args[6], (H) args[7], (I) args[8], (J) args[9], (K) args[10], (L) args[11], (M) args[12], (N) args[13]));
    }
}
