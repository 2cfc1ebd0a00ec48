/**
 * The test kit, shipped in main code so that users can unit-test their routing in-process: a
 * fake ticker here, request builders on {@link dev.offload.core.OffloadRequest}.
 */
package dev.offload.core.testing;
