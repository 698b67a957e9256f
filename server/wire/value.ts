// The response values of IMAP (RFC 3501 section 4): what the formatters of this folder build
// and the writer (writer.ts) turns into wire bytes, choosing atom, quoted string or literal
// as needed. Used by the protocol layer and, for cached ENVELOPE bytes, by the Maildir engine.

export type ImapValue =
  | null // NIL
  | number
  | string // a string: written quoted when safe, else as a literal (UTF-8)
  | Buffer // a string given as bytes: quoted when safe, else literal
  | { atom: string } // written verbatim (flags, keywords like \Seen, "BODY[1]" ...)
  | { literal: Buffer } // always a literal
  /** Values written one after another without spaces (the children of a multipart
   * BODYSTRUCTURE: RFC 3501 body-type-mpart is "(" 1*body SP media-subtype ...). */
  | { adjacent: ImapValue[] }
  | ImapValue[]; // parenthesized list
