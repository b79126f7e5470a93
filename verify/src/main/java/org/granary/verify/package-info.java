/**
 * Verification and repair of a Granary store, the equivalent of {@code guix gc --verify=contents,repair}.
 */
package org.granary.verify;
