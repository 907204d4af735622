// A small markdown renderer that cannot emit markup it was not written to emit: every
// character of the input is HTML-escaped before any markdown rule runs, so a message that
// contains <script> or <img onerror=...> renders as that text. (The page's CSP forbids
// inline scripts as a second line of defence.)

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

export function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function inline(escaped, citations) {
  let html = escaped
    .replace(/`([^`]+)`/g, "<code>$1</code>")
    .replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
    .replace(/(^|[^*\w])\*([^*\s][^*]*)\*/g, "$1<em>$2</em>")
    .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" rel="noopener noreferrer" target="_blank">$1</a>');
  if (citations) {
    html = html.replace(/\[(\d{1,3})\](?!\()/g, (whole, n) =>
      Number(n) >= 1 && Number(n) <= citations ? `<button type="button" class="cite" data-n="${n}">${n}</button>` : whole,
    );
  }
  return html;
}

function list(lines, ordered, citations) {
  const tag = ordered ? "ol" : "ul";
  const items = lines.map((line) => `<li>${inline(line.replace(/^\s*(?:[-*]|\d+\.)\s+/, ""), citations)}</li>`);
  return `<${tag}>${items.join("")}</${tag}>`;
}

// Markdown to HTML. `citations` is how many sources the answer has: [n] within that range
// becomes a citation marker.
export function renderMarkdown(source, citations = 0) {
  const blocks = [];
  const lines = escapeHtml(source).split("\n");
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) blocks.push(`<p>${inline(paragraph.join("<br>"), citations)}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.startsWith("```")) {
      flush();
      const code = [];
      while (++i < lines.length && !lines[i].startsWith("```")) code.push(lines[i]);
      blocks.push(`<pre><code>${code.join("\n")}</code></pre>`);
    } else if (/^#{1,3}\s/.test(line)) {
      flush();
      const level = line.match(/^#+/)[0].length + 2; // h3..h5 inside a message
      blocks.push(`<h${level}>${inline(line.replace(/^#+\s/, ""), citations)}</h${level}>`);
    } else if (/^\s*(?:[-*]|\d+\.)\s+/.test(line)) {
      flush();
      const ordered = /^\s*\d+\./.test(line);
      const items = [line];
      while (i + 1 < lines.length && /^\s*(?:[-*]|\d+\.)\s+/.test(lines[i + 1])) items.push(lines[++i]);
      blocks.push(list(items, ordered, citations));
    } else if (line.trim() === "") {
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return blocks.join("");
}
