package dev.offload.netty.internal;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder with every check on: header validation, strict line parsing (no bare
 * CR or LF), one {@code Content-Length}, and, unlike Netty's default, which drops the {@code
 * Content-Length}, a message with both {@code Content-Length} and {@code Transfer-Encoding}
 * refused as invalid: a proxy in front of us may have framed it by the other field (request
 * smuggling). A refused message arrives with a failed {@code decoderResult()}.
 */
public final class StrictRequestDecoder extends HttpRequestDecoder {
  /** Longest request line accepted, in bytes. */
  public static final int MAX_INITIAL_LINE_LENGTH = 8192;
  /** Largest header section accepted, in bytes. */
  public static final int MAX_HEADER_SIZE = 16384;

  /** Creates a decoder with the limits above. */
  public StrictRequestDecoder() {
    super(new HttpDecoderConfig()
        .setMaxInitialLineLength(MAX_INITIAL_LINE_LENGTH)
        .setMaxHeaderSize(MAX_HEADER_SIZE)
        .setValidateHeaders(true)
        .setStrictLineParsing(true)
        .setAllowDuplicateContentLengths(false)
        .setAllowPartialChunks(true));
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException("both Content-Length and Transfer-Encoding");
  }
}
