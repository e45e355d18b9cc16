/**
 * The locks with modes on the engine SPI (not API): read-write locks and hierarchical (intention) locks share one
 * acquire script ({@link dev.redlock.internal.mode.ModeScript}) over the resources of a request.
 */
package dev.redlock.internal.mode;
