/**
 * What the tests of every module share, and nothing else (no module's main code depends on it):
 * {@link org.moe4j.testing.Close}, the one tolerance assertion, and
 * {@link org.moe4j.testing.Requirement}, skips for what a machine lacks (OpenCL, ptxas, network
 * namespaces...) that {@code -Dmoe4j.require=...} turns into failures, so that CI cannot pass by
 * skipping.
 */
package org.moe4j.testing;
