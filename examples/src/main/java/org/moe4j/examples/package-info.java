/** Runnable examples of using moe4j from Java. */
package org.moe4j.examples;
