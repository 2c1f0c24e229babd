package org.moe4j.kernels;

/**
 * The shape of a launch: global and work-group sizes in up to two dimensions. Global sizes are
 * rounded up to a multiple of the work-group size, as OpenCL requires, so kernels guard their
 * index against the real extent they are given as a parameter.
 */
public record Grid(int globalX, int globalY, int localX, int localY) {

    /** Default work-group size of 1-D launches. */
    public static final int DEFAULT_LOCAL = 64;

    public Grid {
        if (localX < 1 || localY < 1) {
            throw new IllegalArgumentException("work-group size must be positive, got " + localX + "x" + localY);
        }
        if (globalX < 0 || globalY < 0 || globalX % localX != 0 || globalY % localY != 0) {
            throw new IllegalArgumentException("global size " + globalX + "x" + globalY
                    + " must be a non-negative multiple of the work-group size " + localX + "x" + localY);
        }
    }

    /** {@code n} work-items (rounded up to whole groups of {@link #DEFAULT_LOCAL}). */
    public static Grid of(int n) {
        return of(n, DEFAULT_LOCAL);
    }

    /** {@code n} work-items in work-groups of {@code local}, rounded up to whole groups. */
    public static Grid of(int n, int local) {
        return new Grid(roundUp(n, local), 1, local, 1);
    }

    /** A 2-D grid of at least {@code nx * ny} work-items in {@code lx * ly} work-groups. */
    public static Grid of(int nx, int ny, int lx, int ly) {
        return new Grid(roundUp(nx, lx), roundUp(ny, ly), lx, ly);
    }

    public int groupsX() {
        return globalX / localX;
    }

    public int groupsY() {
        return globalY / localY;
    }

    public int localSize() {
        return localX * localY;
    }

    private static int roundUp(int n, int multiple) {
        if (n < 0) {
            throw new IllegalArgumentException("grid extent must be non-negative, got " + n);
        }
        return Math.ceilDiv(n, multiple) * multiple;
    }
}
