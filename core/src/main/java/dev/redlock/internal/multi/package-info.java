/**
 * The multi-key lock on the engine SPI (not API): all or nothing over a set of the lock's keys, in one script per
 * node.
 */
package dev.redlock.internal.multi;
