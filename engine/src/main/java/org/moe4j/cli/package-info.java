/**
 * The {@code moe} command line (picocli): {@code train}, {@code eval}, {@code generate},
 * {@code inspect}. The only place where exceptions become exit codes and where {@code System.exit}
 * is called.
 */
package org.moe4j.cli;
