package org.moe4j.moe;

/**
 * What an {@link Expert} is built from.
 *
 * @param experts     number of experts E
 * @param width       model width D (the expert's input and output)
 * @param hidden      hidden width F
 * @param std         initialisation std of the weights reading the input
 * @param residualStd initialisation std of the projection back into the residual stream
 */
public record ExpertShape(int experts, int width, int hidden, float std, float residualStd) {
}
