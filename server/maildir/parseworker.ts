// A parse worker (see parsepool.ts): reads message files and computes their cache records with
// the built-in MIME parser and ENVELOPE writer, the same code the server thread runs.

import { closeSync, openSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { envelopeWire } from '../wire/render.js';
import { parseHeaderMeta, parseMessage, parseStructure } from '../mime/parse.js';
import { Deriver } from './derive.js';
import { MESSAGE_READ_FLAGS, noMessageFile } from './folderdir.js';
import { JOB_ENVELOPE, JOB_HAS_ENVELOPE, JOB_HAS_HEADER, JOB_HAS_STRUCTURE, JOB_HEADER, JOB_INFO, JOB_STRUCTURE, RESULT_FIELDS, STATUS_FAILED, STATUS_MISSING, STATUS_OK, type PoolRequest, type PoolResponse } from './parsepool.js';

const deriver = new Deriver({ parseMessage, parseStructure, parseHeader: parseHeaderMeta, renderEnvelope: envelopeWire });

function run(request: PoolRequest): PoolResponse {
  const { files, flags, sizes } = request;
  const meta = new Float64Array(files.length * RESULT_FIELDS);
  const pieces: Buffer[] = [];
  let total = 0;
  for (let i = 0; i < files.length; i++) {
    const f = flags[i];
    const at = i * RESULT_FIELDS;
    let fd: number;
    try {
      fd = openSync(files[i], MESSAGE_READ_FLAGS);
    } catch (error) {
      meta[at] = noMessageFile(error) ? STATUS_MISSING : STATUS_FAILED;
      continue;
    }
    try {
      const derived = deriver.derive(fd, {
        needs: { info: (f & JOB_INFO) !== 0, envelope: (f & JOB_ENVELOPE) !== 0, header: (f & JOB_HEADER) !== 0, structure: (f & JOB_STRUCTURE) !== 0, raw: false },
        sizeFromName: sizes[i] < 0 ? undefined : sizes[i],
        numbered: true,
        hasHeader: (f & JOB_HAS_HEADER) !== 0,
        hasEnvelope: (f & JOB_HAS_ENVELOPE) !== 0,
        hasStructure: (f & JOB_HAS_STRUCTURE) !== 0,
      });
      meta[at] = STATUS_OK;
      if (derived.stored) {
        meta[at + 1] = derived.stored.size;
        meta[at + 2] = derived.stored.internalDate;
        meta[at + 3] = derived.stored.fileSize;
      } else {
        meta[at + 1] = -1;
      }
      const records = [derived.envelopeRecord, derived.headerRecord, derived.structureRecord];
      for (let r = 0; r < 3; r++) {
        const record = records[r];
        meta[at + 4 + r] = record ? record.length : -1;
        if (record) {
          pieces.push(record);
          total += record.length;
        }
      }
    } catch {
      meta[at] = STATUS_FAILED; // the server thread tries again and reports what goes wrong
    } finally {
      closeSync(fd);
    }
  }
  // Its own memory, not a slice of Node's shared pool, so that it can be handed over.
  const data = new Uint8Array(new ArrayBuffer(total));
  let offset = 0;
  for (const piece of pieces) {
    data.set(piece, offset);
    offset += piece.length;
  }
  return { id: request.id, meta, data: data.buffer };
}

parentPort!.on('message', (request: PoolRequest) => {
  const response = run(request);
  parentPort!.postMessage(response, [response.meta.buffer as ArrayBuffer, response.data]);
});
parentPort!.postMessage('ready');
