package org.moe4j.kernels;

/** The body of one work-item with the launch's arguments bound: what the JVM device calls per id. */
@FunctionalInterface
public interface WorkItem {
    void run(KernelContext context);
}
