/**
 * The kernel library: portable kernels (no suffix) and their Vector-API overrides ({@code *Simd}).
 *
 * <p>Dimension letters: {@code m}, {@code n}, {@code k} are the rows of C, the columns of C and the
 * summed dimension of a matrix product {@code C[m,n] = A[m,k]·B[k,n]}; in model code {@code B} is
 * batch, {@code T} tokens, {@code D} model width, {@code F} expert hidden width, {@code E} experts,
 * {@code K} chosen experts per token, {@code C} capacity, {@code V} vocabulary. Every matrix is a
 * row-major {@code float[]}.
 */
package org.moe4j.kernels.lib;
