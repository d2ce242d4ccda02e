/**
 * Code points XML 1.0 cannot hold (§2.2 `Char`): C0 controls other than tab, line feed and carriage
 * return, lone surrogates (the `u` flag matches each as a code point), U+FFFE and U+FFFF.
 */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu

/**
 * `text` with every code point XML 1.0 cannot hold replaced by U+FFFD, so that any name (names come
 * from drives: hostile) makes a well-formed document; the JSON feed shows the same text.
 */
export function xmlText (text: string): string {
  return text.replace(NOT_XML_CHAR, '\uFFFD')
}

/**
 * `text` cut into pieces none of which holds `]]>`, each to be written as one CDATA section: a
 * reader joins them back into `text`. (xml-js, under `feed`, splits only the first `]]>` of a section.)
 */
export function cdataSections (text: string): string[] {
  const parts = text.split(']]>')
  return parts.map((part, index) => `${index === 0 ? '' : '>'}${part}${index === parts.length - 1 ? '' : ']]'}`)
}
