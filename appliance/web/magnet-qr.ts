import { correction, generate } from 'lean-qr'

/** Light modules around the code, as ISO/IEC 18004 asks; phone scanners fail more often with less. */
const QUIET_ZONE = 4

/**
 * An SVG image of a QR code of `text`, dark on light whatever the page's colour scheme (scanners
 * expect that). Error correction M: the codes are read off screens, rarely damaged, and a lower level
 * keeps long magnet links at a size a phone still reads.
 */
export function qrSvg (text: string, title: string): string {
  const code = generate(text, { minCorrectionLevel: correction.M })
  const size = code.size + 2 * QUIET_ZONE
  let path = ''
  for (let y = 0; y < code.size; y++) {
    for (let x = 0; x < code.size;) {
      if (!code.get(x, y)) {
        x++
        continue
      }
      const start = x
      while (x < code.size && code.get(x, y)) x++
      path += `M${start + QUIET_ZONE} ${y + QUIET_ZONE}h${x - start}v1h${start - x}z`
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges" role="img">` +
    `<title>${escapeXml(title)}</title><rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${path}"/></svg>`
}

function escapeXml (text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`)
}
