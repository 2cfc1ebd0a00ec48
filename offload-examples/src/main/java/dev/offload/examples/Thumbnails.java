package dev.offload.examples;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;

/** The demo's heavy work: PNG thumbnails with ImageIO (the user's own code in a real host). */
public final class Thumbnails {
  private Thumbnails() {}

  /** Whether {@code bytes} decode as an image. */
  public static boolean isImage(byte[] bytes) {
    try {
      return javax.imageio.ImageIO.read(new ByteArrayInputStream(bytes)) != null;
    } catch (IOException e) {
      return false;
    }
  }

  /** Decodes an image, scales it to {@code width} x {@code height} and encodes it as PNG. */
  public static byte[] resize(byte[] image, int width, int height) throws IOException {
    BufferedImage source = javax.imageio.ImageIO.read(new ByteArrayInputStream(image));
    if (source == null) {
      throw new IOException("not an image");
    }
    BufferedImage thumb = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = thumb.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_INTERPOLATION,
          RenderingHints.VALUE_INTERPOLATION_BILINEAR);
      g.drawImage(source, 0, 0, width, height, null);
    } finally {
      g.dispose();
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.imageio.ImageIO.write(thumb, "png", out);
    return out.toByteArray();
  }

  /** A generated PNG of {@code width} x {@code height}. */
  static byte[] sample(int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        image.setRGB(x, y, ((x * 255 / width) << 16) | ((y * 255 / height) << 8));
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.imageio.ImageIO.write(image, "png", out);
    return out.toByteArray();
  }

  /** Describes an image's size, or says it is none. */
  static String describe(byte[] bytes) {
    try {
      BufferedImage image = javax.imageio.ImageIO.read(new ByteArrayInputStream(bytes));
      return image == null ? bytes.length + " bytes, not an image"
          : image.getWidth() + "x" + image.getHeight() + " PNG, " + bytes.length + " bytes";
    } catch (IOException e) {
      return bytes.length + " bytes, unreadable";
    }
  }
}
