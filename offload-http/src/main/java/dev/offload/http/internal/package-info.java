/**
 * Implementation details of offload-http. Nothing here carries a compatibility promise: types
 * may change or disappear in any release.
 */
package dev.offload.http.internal;
