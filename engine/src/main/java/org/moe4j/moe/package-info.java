/**
 * Mixture-of-Experts layers, as defined in {@code docs/moe.md}: the routers (top-k and Switch, k
 * top-1 expert prototyping, expert choice), expert capacity and dropping ({@link
 * org.moe4j.moe.DispatchPlan}), dispatch into and combine from the {@code (E,C,D)} expert buffer,
 * the load-balancing and z auxiliary losses, the {@link org.moe4j.moe.Expert} interface with the
 * built-in GELU and SwiGLU experts, the layer itself ({@link org.moe4j.moe.MoeLayer}) and its
 * routing statistics.
 *
 * <p>Dimension letters: {@code B} batch, {@code T} tokens per sequence, {@code N = B·T} tokens,
 * {@code D} model width, {@code F} expert hidden width, {@code E} experts, {@code K} chosen experts
 * per token, {@code G = E/K} experts per prototype, {@code C} capacity (slots per expert),
 * {@code J} assignments per token in a dispatch plan ({@code K}, or {@code E} for expert choice).
 */
package org.moe4j.moe;
