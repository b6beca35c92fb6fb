/**
 * A run's TensorBoard event file on disk (the bytes come from src/tensorboard.ts). Each record goes to the
 * kernel as soon as it is written, so `tensorboard --logdir` follows a run live; close() fsyncs. Every
 * failure is one TensorBoardError line naming the file.
 */
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { eventFileHeader, eventFileName, scalarEvent } from '../src/tensorboard.ts';

export class TensorBoardError extends Error {}

function reason(error: unknown): string {
  return (error as NodeJS.ErrnoException).code ?? String((error as Error).message ?? error).split('\n')[0];
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
}

export class TensorBoardWriter {
  readonly path: string;
  private fd: number | null = null;

  /** Opens `<dir>/events.out.tfevents.<seconds>.<host><suffix>` for appending, creating `dir`. */
  constructor(dir: string, options: { wallTime?: number; host?: string; suffix?: string } = {}) {
    const wallTime = options.wallTime ?? Date.now() / 1000;
    this.path = join(dir, eventFileName(wallTime, options.host ?? hostname(), options.suffix));
    try {
      mkdirSync(dir, { recursive: true });
      this.fd = openSync(this.path, 'a');
      // Appending to a file that already has its header (same second, same host): one header is enough.
      if (fstatSync(this.fd).size === 0) writeAll(this.fd, eventFileHeader(wallTime));
    } catch (error) {
      if (this.fd !== null) closeSync(this.fd);
      this.fd = null;
      throw new TensorBoardError(`tensorboard: cannot open ${this.path}: ${reason(error)}`);
    }
  }

  /** All scalars of one env step, in one record (`Sb3Scalars.of` gives them SB3's names). */
  scalars(step: number, scalars: Record<string, number>, wallTime = Date.now() / 1000): void {
    if (this.fd === null) throw new TensorBoardError(`tensorboard: ${this.path} is closed`);
    const record = scalarEvent(step, wallTime, scalars);
    try {
      writeAll(this.fd, record);
    } catch (error) {
      throw new TensorBoardError(`tensorboard: cannot write ${this.path}: ${reason(error)}`);
    }
  }

  /** Flushes to disk and closes; a second call does nothing. */
  close(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      fsyncSync(fd);
    } catch (error) {
      throw new TensorBoardError(`tensorboard: cannot flush ${this.path}: ${reason(error)}`);
    } finally {
      closeSync(fd);
    }
  }
}
