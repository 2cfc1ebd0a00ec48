package dev.offload.netty.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequestDecoder;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import java.util.List;

/**
 * Netty's request decoder with every check on: header validation, strict line parsing (no bare
 * CR or LF), one {@code Content-Length}, and, unlike Netty's default, which drops the {@code
 * Content-Length}, a message with both {@code Content-Length} and {@code Transfer-Encoding}
 * refused as invalid: a proxy in front of us may have framed it by the other field (request
 * smuggling), and an obsolete line fold (a header line starting with a space or tab, which Netty
 * would join to the field before it) refused. A refused message arrives with a failed {@code
 * decoderResult()}, and nothing after it on the connection is decoded.
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

  /** Whether the bytes being scanned are a request head (between two messages). */
  private boolean inHead = true;
  /** Whether the head's first line (the request line) has ended. */
  private boolean pastRequestLine;
  /** Whether the last byte scanned was a line feed. */
  private boolean atLineStart;
  /** Bytes past the reader index that were scanned already. */
  private int scanned;
  /** An invalid head was seen: everything after it is dropped. */
  private boolean broken;

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf buffer, List<Object> out)
      throws Exception {
    if (broken) {
      buffer.skipBytes(buffer.readableBytes());
      return;
    }
    if (inHead && foldedLine(buffer)) {
      broken = true;
      buffer.skipBytes(buffer.readableBytes());
      FullHttpRequest invalid = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET,
          "/bad-request");
      invalid.setDecoderResult(DecoderResult.failure(
          new IllegalArgumentException("obsolete line folding")));
      out.add(invalid);
      return;
    }
    int before = buffer.readerIndex();
    int size = out.size();
    super.decode(ctx, buffer, out);
    scanned = Math.max(0, scanned - (buffer.readerIndex() - before));
    for (int i = size; i < out.size(); i++) {
      if (out.get(i) instanceof LastHttpContent) { // the next bytes are the next request's head
        inHead = true;
        pastRequestLine = false;
        atLineStart = false;
        scanned = 0;
      }
    }
  }

  /** Scans the new bytes of a head; returns true at a line that starts with a space or tab. */
  private boolean foldedLine(ByteBuf buffer) {
    int end = buffer.writerIndex();
    for (int i = buffer.readerIndex() + scanned; i < end; i++) {
      byte b = buffer.getByte(i);
      scanned++;
      if (atLineStart && pastRequestLine) {
        if (b == ' ' || b == '\t') {
          return true;
        }
        if (b == '\n') { // an empty line: the head ends here
          inHead = false;
          return false;
        }
      }
      if (b == '\n') {
        atLineStart = true;
        pastRequestLine = true;
      } else if (b != '\r') {
        atLineStart = false;
      }
    }
    return false;
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException("both Content-Length and Transfer-Encoding");
  }
}
