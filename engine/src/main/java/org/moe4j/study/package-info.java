/**
 * Studies: a grid of training runs that differ in a few config fields, trained one after another
 * in one study directory, then summarised as a table ({@code results.md}, {@code results.json}) and
 * plots. {@link org.moe4j.study.StudyGrid} is the grid and its JSON form,
 * {@link org.moe4j.study.M6tPreset} the routing grid of the M6-T paper,
 * {@link org.moe4j.study.ModernPreset} the routing of current MoE models, {@link org.moe4j.study.Study}
 * runs a grid (skipping finished runs, recording failed ones) and {@link org.moe4j.study.StudyReport}
 * writes the results. See {@code docs/study.md}.
 */
package org.moe4j.study;
