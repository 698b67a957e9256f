// The parsed shape of one RFC 5322 / MIME message, as the IMAP layer needs it for
// ENVELOPE, BODYSTRUCTURE, BODY[section], SORT and THREAD. It is computed once per
// message and cached by the Maildir engine (it is plain JSON-serialisable data).
//
// Header-derived strings that go out on the wire verbatim (envelope fields, parameter
// values, ...) are "byte strings": the raw octets of the header decoded as latin1, so
// that 8-bit bytes survive a round trip exactly. Write them with Buffer.from(s, 'latin1').

export interface Address {
  /** Display name, raw (may contain RFC 2047 encoded-words), or null. */
  name: string | null;
  /** Source route (obsolete), nearly always null. */
  adl: string | null;
  /** Local part; for a group start: the group name, for a group end: null. */
  mailbox: string | null;
  /** Domain; null marks group syntax (RFC 3501 section 7.4.2). */
  host: string | null;
}

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: Address[] | null;
  sender: Address[] | null;
  replyTo: Address[] | null;
  to: Address[] | null;
  cc: Address[] | null;
  bcc: Address[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

export interface ContentDisposition {
  type: string;
  params: [string, string][];
}

export interface BodyPart {
  /** Lower-case media type and subtype ("text", "plain"); defaults applied per RFC 2045. */
  type: string;
  subtype: string;
  /** Content-Type parameters in header order, names lower-case, RFC 2231 continuations joined. */
  params: [string, string][];
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding as written, or "7bit" when absent (RFC 2045 section 6.1). */
  encoding: string;
  /** Octets of the body in CRLF form (what BODY[n] returns). */
  size: number;
  /** Lines of the body: set for text/* and message/rfc822 (RFC 3501 body-fld-lines). */
  lines: number;
  md5: string | null;
  disposition: ContentDisposition | null;
  language: string[] | null;
  location: string | null;
  /** Children of a multipart. */
  parts?: BodyPart[];
  /** The encapsulated message of a message/rfc822 (or message/global) part. */
  message?: { envelope: Envelope; body: BodyPart };
  /** Byte offsets in the stored file (LF or CRLF as stored): start of this part's
   * MIME header, start of its body (after the blank line), end of its body. */
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
}

/** What the top-level header alone gives: ENVELOPE, SEARCH on header fields, SORT, THREAD.
 * It needs only the first bytes of a message file, up to the blank line. */
export interface HeaderMeta {
  envelope: Envelope;
  /** Message-IDs from References (in order) for THREAD=REFERENCES. */
  references: string[];
  /** Decoded (RFC 2047 -> UTF-8) header values used by SORT, THREAD and SEARCH. */
  decoded: {
    subject: string;
    from: string;
    to: string;
    cc: string;
    bcc: string;
  };
  /** Parsed Date: header in ms since epoch, null when missing or unparseable. */
  sentDate: number | null;
}

export interface MessageMeta extends HeaderMeta {
  /** RFC822.SIZE: octets of the whole message with CRLF line ends. */
  size: number;
  body: BodyPart;
}
