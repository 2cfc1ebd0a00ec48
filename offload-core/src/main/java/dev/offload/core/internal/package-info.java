/**
 * Implementation detail of offload-core. Public only so that other offload modules can use it;
 * it carries no compatibility promise and may change in any release.
 */
package dev.offload.core.internal;
