/**
 * Seeded random numbers whose whole state is one {@code long}, so that a checkpoint can save it
 * and a resumed run draws exactly the numbers the uninterrupted run would have drawn. Data
 * sampling and model initialisation both use {@link org.moe4j.random.SplitMix64}; nothing in the
 * engine uses {@code java.util.Random}.
 */
package org.moe4j.random;
