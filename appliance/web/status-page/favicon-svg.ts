/** The page's icon: a seed sending out arrows, in colours that read on light and dark tabs. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="7" fill="#0f7b45"/>
<circle cx="16" cy="16" r="5" fill="#fff"/>
<path d="M16 2.5v6M16 23.5v6M2.5 16h6M23.5 16h6" stroke="#fff" stroke-width="3" stroke-linecap="round"/>
</svg>
`
