/**
 * BlockHound support: {@link dev.redlock.blockhound.RedlockBlockHoundIntegration}, which {@code BlockHound.install()}
 * loads through {@link java.util.ServiceLoader}. Not API: it has no members to call, and it is left out of the
 * published Javadoc.
 *
 * @since 0.1.0
 */
@NullMarked
package dev.redlock.blockhound;

import org.jspecify.annotations.NullMarked;
