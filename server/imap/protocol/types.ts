// Shared types of the IMAP protocol layer: what the parser produces and what the
// response writer consumes. Nothing here knows about files or Maildir.

// ---------------------------------------------------------------------------
// Parsed command arguments (generic syntax tree produced by the command parser)

export type Token =
  | { type: 'atom'; value: string }
  /** Quoted string or literal; `binary`: literal8 (~{n}); `streamed`: the literal's index when its data went to a sink (`value` is then empty). */
  | { type: 'string'; value: Buffer; literal: boolean; binary?: true; streamed?: number }
  | { type: 'nil' }
  | { type: 'list'; items: Token[] } // ( ... )
  | { type: 'section'; raw: string; items: Token[] }; // BODY[...] part, see fetch parsing

export interface ParsedCommand {
  tag: string;
  /** Upper-cased command name; for UID commands: "UID FETCH" etc. */
  name: string;
  args: Token[];
}

// ---------------------------------------------------------------------------
// Response values: defined with the writer in server/wire/, below the protocol layer.

export type { ImapValue } from '../../wire/value.js';

// ---------------------------------------------------------------------------
// Sequence sets (RFC 3501 sequence-set; "*" is resolved against the mailbox at use).

/** One range; `Infinity` stands for "*". Ranges are normalised so that from <= to
 * only after resolving "*": keep them as written and resolve with resolveSequenceSet. */
export interface SequenceRange {
  from: number;
  to: number;
}
export type SequenceSet = SequenceRange[];

// ---------------------------------------------------------------------------
// FETCH attributes

export interface SectionSpec {
  /** Part path, e.g. [1, 2] for BODY[1.2...]; empty for the top level. */
  part: number[];
  /** What of that part: '' (whole part), HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME. */
  kind: '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  /** Upper-cased header field names for HEADER.FIELDS(.NOT). */
  fields?: string[];
}

export type FetchItem =
  | { kind: 'UID' }
  | { kind: 'FLAGS' }
  | { kind: 'INTERNALDATE' }
  | { kind: 'RFC822.SIZE' }
  | { kind: 'ENVELOPE' }
  | { kind: 'BODY' } // non-extensible BODYSTRUCTURE
  | { kind: 'BODYSTRUCTURE' }
  | { kind: 'RFC822' } // = BODY[] (sets \Seen)
  | { kind: 'RFC822.HEADER' } // = BODY.PEEK[HEADER]
  | { kind: 'RFC822.TEXT' } // = BODY[TEXT] (sets \Seen)
  | { kind: 'MODSEQ' } // RFC 7162
  | { kind: 'EMAILID' } // RFC 8474
  | { kind: 'THREADID' } // RFC 8474
  | { kind: 'SAVEDATE' } // RFC 8514
  /** RFC 8970; `lazy`: answer from what is at hand, NIL otherwise. */
  | { kind: 'PREVIEW'; lazy: boolean }
  /** RFC 3516 BINARY[part]<origin.count> and BINARY.PEEK: the part with its transfer encoding undone. */
  | { kind: 'BINARY[]'; part: number[]; peek: boolean; partial?: { origin: number; count: number }; label: string }
  /** RFC 3516 BINARY.SIZE[part]: the size of what BINARY[part] would send. */
  | { kind: 'BINARY.SIZE'; part: number[]; label: string }
  | {
      kind: 'BODY[]';
      section: SectionSpec;
      peek: boolean;
      /** <origin.count> */
      partial?: { origin: number; count: number };
      /** The section text as the client wrote it, upper-cased, for the response label. */
      label: string;
    };

// ---------------------------------------------------------------------------
// SEARCH keys (RFC 3501 section 6.4.4), parsed into a tree.

export type SearchKey =
  | { op: 'all' }
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'or'; left: SearchKey; right: SearchKey }
  | { op: 'not'; key: SearchKey }
  | { op: 'seqset'; set: SequenceSet }
  | { op: 'uid'; set: SequenceSet }
  /** RFC 5182 "$" (as a sequence set or after UID): the result saved by SEARCH RETURN (SAVE). */
  | { op: 'saved' }
  /** System flag or keyword present (\Seen, \Answered, ..., keyword). */
  | { op: 'flag'; flag: string }
  | { op: 'noflag'; flag: string }
  | { op: 'recent' }
  | { op: 'new' } // RECENT UNSEEN
  | { op: 'old' } // NOT RECENT
  /** Internal date (date only, timezone ignored per RFC): before/on/since the given day. */
  | { op: 'internaldate'; cmp: 'before' | 'on' | 'since'; date: { y: number; m: number; d: number } }
  /** Date: header (SENTBEFORE/SENTON/SENTSINCE). */
  | { op: 'sentdate'; cmp: 'before' | 'on' | 'since'; date: { y: number; m: number; d: number } }
  /** RFC 8514 SAVEDBEFORE/SAVEDON/SAVEDSINCE: the day the message was saved in the folder (as INTERNALDATE's). */
  | { op: 'savedate'; cmp: 'before' | 'on' | 'since'; date: { y: number; m: number; d: number } }
  | { op: 'size'; cmp: 'larger' | 'smaller'; n: number }
  /** RFC 5032 OLDER / YOUNGER: INTERNALDATE at least / less than `seconds` before now. */
  | { op: 'within'; cmp: 'older' | 'younger'; seconds: number }
  /** RFC 7162 MODSEQ: messages changed at or after this modseq (the entry name is not kept: flags share one modseq). */
  | { op: 'modseq'; n: number }
  /** Substring in a header field (name upper-cased; FROM/TO/CC/BCC/SUBJECT become HEADER xxx too). */
  | { op: 'header'; field: string; value: string }
  | { op: 'body'; value: string }
  | { op: 'text'; value: string };
