/**
 * Real images for tests: the upstream (and the simulator) refuse images under 100 bytes and files
 * that are no jpg, png or gif, so fixtures are real PNGs (RFC 2083: signature, IHDR, IDAT, IEND,
 * each chunk with its CRC), padded to an exact size with a tEXt chunk where a test needs one.
 */
import { crc32, deflateSync } from "node:zlib";

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A tEXt chunk's fixed cost: length, type, CRC, and the keyword "Comment" with its NUL. */
const TEXT_OVERHEAD = 12 + 8;

/** A grey `width` x `height` PNG (8-bit greyscale), `shade` its one value, with a tEXt `comment` (the default makes a 16x16 one 117 bytes). */
export function png(width = 16, height = 16, shade = 0x80, comment = "captcha-worker test image"): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, greyscale, deflate, adaptive filters, no interlace
  const rows = Buffer.alloc((width + 1) * height, shade);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter type None
  const text = comment === "" ? [] : [chunk("tEXt", Buffer.from(`Comment\0${comment}`, "latin1"))];
  return Buffer.concat([SIGNATURE, chunk("IHDR", ihdr), ...text, chunk("IDAT", deflateSync(rows)), chunk("IEND", Buffer.alloc(0))]);
}

/** A real PNG of exactly `bytes` bytes (at least 88): a 1x1 image with a tEXt comment padding it out. */
export function pngOfSize(bytes: number, shade = 0x80): Buffer {
  const base = png(1, 1, shade, "");
  const pad = bytes - base.length - TEXT_OVERHEAD;
  if (pad < 0) throw new Error(`a PNG takes at least ${base.length + TEXT_OVERHEAD} bytes`);
  const text = chunk("tEXt", Buffer.concat([Buffer.from("Comment\0", "latin1"), Buffer.alloc(pad, 0x61)]));
  const iend = base.length - 12;
  return Buffer.concat([base.subarray(0, iend), text, base.subarray(iend)]);
}

/** A 16x16 grey PNG as base64 (117 bytes): the image fixture of every test that needs just an image. */
export const PNG_B64 = png().toString("base64");
/** Another, different one (a darker shade), for tests that need two distinct images. */
export const PNG2_B64 = png(16, 16, 0x20).toString("base64");
/** A real PNG of 99 bytes: one under the 100-byte limit. */
export const PNG_99_B64 = pngOfSize(99).toString("base64");

/** A 16x16 PNG as base64 holding both `+` and `/` (the first shade that does): for tests of URL-safe base64 and unencoded `+`. */
export const PNG_PLUS_SLASH_B64 = (() => {
  for (let shade = 0; shade < 256; shade++) {
    const b64 = png(16, 16, shade).toString("base64");
    if (b64.includes("+") && b64.includes("/")) return b64;
  }
  throw new Error("no shade gives both + and /");
})();

/** A real 1x1 GIF89a (two-colour table, one LZW-coded pixel) with a comment extension: `comment` pads it past 100 bytes. */
export function gif(comment = "captcha-worker test image, a GIF of one pixel, padded by this comment"): Buffer {
  const text = Buffer.from(comment, "latin1").subarray(0, 255);
  return Buffer.concat([
    Buffer.from("GIF89a", "latin1"),
    Buffer.from([0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00]), // 1x1, a global table of 2 colours
    Buffer.from([0x00, 0x00, 0x00, 0xff, 0xff, 0xff]),
    Buffer.from([0x21, 0xfe, text.length]), text, Buffer.from([0x00]), // the comment, one sub-block
    Buffer.from([0x2c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]), // image descriptor
    Buffer.from([0x02, 0x02, 0x44, 0x01, 0x00]), // LZW minimum code size 2, one pixel
    Buffer.from([0x3b]),
  ]);
}
