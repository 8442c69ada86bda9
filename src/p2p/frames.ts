import { TributaryError } from '../errors.ts';

/**
 * Framing of request/response streams, independent of libp2p: a frame is an unsigned LEB128
 * length (minimal form, at most 5 bytes) followed by that many bytes. A request is one frame; a
 * response is a series of frames, each starting with one kind byte (`RESPONSE_CHUNK` or
 * `RESPONSE_ERROR`), and ends when the server closes its side.
 */
export type FrameErrorCode = 'p2p/malformed' | 'p2p/too_large';

export const RESPONSE_CHUNK = 0;
/** The body is an error code in ASCII ("p2p/limit_exceeded"); nothing follows it. */
export const RESPONSE_ERROR = 1;

const MAX_VARINT_BYTES = 5;
/** Error codes on the wire: short lowercase "<module>/<reason>", nothing a peer could abuse. */
const WIRE_CODE = /^[a-z0-9_]{1,24}\/[a-z0-9_]{1,40}$/;

export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > 0xffffffff) {
    throw new TributaryError('p2p/too_large', `frame length ${n} is out of range`);
  }
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return Uint8Array.from(out);
}

export function encodeFrame(payload: Uint8Array): Uint8Array {
  const head = encodeVarint(payload.length);
  const out = new Uint8Array(head.length + payload.length);
  out.set(head, 0);
  out.set(payload, head.length);
  return out;
}

export function encodeResponseChunk(payload: Uint8Array): Uint8Array {
  return encodeFrame(withKind(RESPONSE_CHUNK, payload));
}

export function encodeResponseError(code: string): Uint8Array {
  const wire = WIRE_CODE.test(code) ? code : 'p2p/server_error';
  return encodeFrame(withKind(RESPONSE_ERROR, new TextEncoder().encode(wire)));
}

function withKind(kind: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + payload.length);
  out[0] = kind;
  out.set(payload, 1);
  return out;
}

export type ResponseFrame = { kind: 'chunk'; payload: Uint8Array } | { kind: 'error'; code: string };

/** Splits a response frame into its kind and body; anything else is `p2p/malformed`. */
export function parseResponseFrame(frame: Uint8Array): ResponseFrame {
  if (frame.length === 0) throw new TributaryError('p2p/malformed', 'empty response frame');
  const body = frame.subarray(1);
  if (frame[0] === RESPONSE_CHUNK) return { kind: 'chunk', payload: body };
  if (frame[0] === RESPONSE_ERROR) {
    const code = new TextDecoder('utf-8', { fatal: false }).decode(body);
    if (!WIRE_CODE.test(code)) throw new TributaryError('p2p/malformed', 'response error frame without a valid code');
    return { kind: 'error', code };
  }
  throw new TributaryError('p2p/malformed', `unknown response frame kind ${frame[0]}`);
}

/**
 * Incremental frame decoder: feed it chunks as they arrive, take whole frames out. A declared
 * length above `maxFrameBytes` is refused as soon as its header is read, before any of the body is
 * buffered, so a peer cannot make us hold more than one bounded frame.
 */
export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  maxFrameBytes: number;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  /** The next whole frame, or undefined if more bytes are needed. Throws on a bad header. */
  next(): Uint8Array | undefined {
    const header = this.peekHeader();
    if (!header) return undefined;
    const { length, headerBytes } = header;
    if (this.buffered < headerBytes + length) return undefined;
    const all = this.take(headerBytes + length);
    return all.subarray(headerBytes);
  }

  private peekHeader(): { length: number; headerBytes: number } | undefined {
    let value = 0;
    let scale = 1;
    let i = 0;
    for (const chunk of this.chunks) {
      for (const byte of chunk) {
        if (i === MAX_VARINT_BYTES) throw new TributaryError('p2p/malformed', 'frame length header is too long');
        value += (byte & 0x7f) * scale;
        scale *= 0x80;
        i++;
        if ((byte & 0x80) === 0) {
          if (byte === 0 && i > 1) throw new TributaryError('p2p/malformed', 'frame length is not in minimal form');
          if (value > this.maxFrameBytes) {
            throw new TributaryError(
              'p2p/too_large',
              `frame of ${value} bytes exceeds the limit of ${this.maxFrameBytes}`,
            );
          }
          return { length: value, headerBytes: i };
        }
      }
    }
    if (i >= MAX_VARINT_BYTES) throw new TributaryError('p2p/malformed', 'frame length header is too long');
    return undefined;
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const head = this.chunks[0]!;
      const want = n - filled;
      if (head.length <= want) {
        out.set(head, filled);
        filled += head.length;
        this.chunks.shift();
      } else {
        out.set(head.subarray(0, want), filled);
        this.chunks[0] = head.subarray(want);
        filled += want;
      }
    }
    this.buffered -= n;
    return out;
  }
}
