/** What a file's bytes are, told apart by their first bytes (never by the name alone, which anyone can choose). */
export type ContentKind = 'pdf' | 'image' | 'binary' | 'text';

const IMAGE_SIGNATURES: readonly { readonly type: string; readonly matches: (head: Buffer) => boolean }[] = [
  { type: 'image/png', matches: (head) => head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) },
  { type: 'image/jpeg', matches: (head) => head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff },
  { type: 'image/gif', matches: (head) => head.subarray(0, 4).toString('latin1') === 'GIF8' },
  { type: 'image/webp', matches: (head) => head.subarray(0, 4).toString('latin1') === 'RIFF' && head.subarray(8, 12).toString('latin1') === 'WEBP' },
  { type: 'image/heic', matches: (head) => head.subarray(4, 8).toString('latin1') === 'ftyp' && /^(heic|heix|mif1|msf1)$/.test(head.subarray(8, 12).toString('latin1')) },
  { type: 'image/tiff', matches: (head) => ['II*\u0000', 'MM\u0000*'].includes(head.subarray(0, 4).toString('latin1')) },
];

export function kindOf(head: Buffer): { readonly kind: ContentKind; readonly mime?: string } {
  if (head.subarray(0, 5).toString('latin1') === '%PDF-') return { kind: 'pdf', mime: 'application/pdf' };
  const image = IMAGE_SIGNATURES.find((signature) => signature.matches(head));
  if (image) return { kind: 'image', mime: image.type };
  if (head.includes(0)) return { kind: 'binary' };
  return { kind: 'text' };
}

/** Width and height of a PNG or GIF from its header; other formats are described by type and size only. */
export function imageDimensions(head: Buffer, mime: string): { readonly width: number; readonly height: number } | undefined {
  if (mime === 'image/png' && head.length >= 24) return { width: head.readUInt32BE(16), height: head.readUInt32BE(20) };
  if (mime === 'image/gif' && head.length >= 10) return { width: head.readUInt16LE(6), height: head.readUInt16LE(8) };
  return undefined;
}

/** The text of a PDF, page by page; pdf.js (through unpdf) is loaded at the first PDF, never at start-up. */
export async function pdfText(bytes: Buffer, maxChars: number): Promise<{ readonly text: string; readonly pages: number; readonly truncated: boolean }> {
  const { extractText, getDocumentProxy } = await import('unpdf');
  const document = await getDocumentProxy(new Uint8Array(bytes));
  try {
    const { totalPages, text } = await extractText(document, { mergePages: false });
    const joined = text.map((page, index) => `--- page ${index + 1} ---\n${page.trim()}`).join('\n\n');
    return { text: joined.slice(0, maxChars), pages: totalPages, truncated: joined.length > maxChars };
  } finally {
    await document.cleanup();
  }
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
