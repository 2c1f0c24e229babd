/**
 * Process groups, rendezvous and collectives over TCP for expert parallelism. It will own
 * all-to-all with uneven splits, ring all-reduce, broadcast and barrier; nothing here depends on
 * the engine.
 */
package org.moe4j.distributed;
