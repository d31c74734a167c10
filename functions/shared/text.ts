/**
 * Shortening text for a field with a size limit. Two cuts, named apart because they count differently: `clip`
 * counts UTF-16 code units (what `.length` and most APIs' limits count), `clipCodePoints` counts code points, so
 * no emoji is cut in half.
 */

/** At most `max` UTF-16 code units, an ellipsis marking the cut. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** At most `max` code points, an ellipsis marking the cut. */
export function clipCodePoints(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max - 1).join('')}…`;
}
