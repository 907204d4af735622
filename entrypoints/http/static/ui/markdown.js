// A small markdown renderer that cannot emit markup it was not written to emit: every
// character of the input is HTML-escaped before any markdown rule runs, so a message that
// contains <script> or <img onerror=...> renders as that text. (The page's CSP forbids
// inline scripts as a second line of defence.)

const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const ITEM = /^( *)([-*+]|\d{1,9}[.)])\s+(.*)$/;
const FENCE = /^ *```/;

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

// "-", "*" and "+" make one kind of list, "1." and "1)" another: a change of kind ends a list.
function kindOf(marker) {
  return /\d/.test(marker) ? "ol" : "ul";
}

function nextNonBlank(lines, from) {
  let j = from;
  while (j < lines.length && lines[j].trim() === "") j++;
  return j;
}

// The list starting at lines[start]: its items (each a list of lines, markers and the
// item's indentation removed), where it ends, and whether blank lines separate its items.
// Blank lines do not end a list when another item or an indented continuation follows,
// which is what makes "1. a\n\n2. b" one list numbered 1, 2 rather than two lists of one.
function collectList(lines, start) {
  const first = lines[start].match(ITEM);
  const base = first[1].length;
  const kind = kindOf(first[2]);
  const items = [];
  let loose = false;
  let i = start;
  let inFence = false;
  while (i < lines.length) {
    const line = lines[i];
    const item = line.match(ITEM);
    if (!inFence && item && item[1].length <= base + 1) {
      if (kindOf(item[2]) !== kind) break;
      items.push({ indent: item[1].length + item[2].length + 1, lines: [item[3]] });
      i++;
      continue;
    }
    if (!inFence && line.trim() === "") {
      const j = nextNonBlank(lines, i);
      if (j >= lines.length) break;
      const after = lines[j].match(ITEM);
      const continues = after && after[1].length <= base + 1 ? kindOf(after[2]) === kind : /^ {2,}\S/.test(lines[j]);
      if (!continues) break;
      loose = true;
      for (; i < j; i++) items.at(-1).lines.push("");
      continue;
    }
    const indented = /^ {2,}/.test(line);
    // A line that is neither indented nor in a fence ends the list unless it directly
    // follows item text (a lazy continuation of that paragraph).
    if (!inFence && !indented && items.at(-1).lines.at(-1) === "") break;
    if (FENCE.test(line)) inFence = !inFence;
    items.at(-1).lines.push(line.replace(new RegExp(`^ {0,${items.at(-1).indent}}`), ""));
    i++;
  }
  return { kind, start: Number.parseInt(first[2], 10), items, loose, end: i };
}

function renderList(list, citations) {
  const items = list.items.map((item) => {
    let html = blocks(item.lines, citations);
    // A tight item is its text, not a paragraph of it.
    if (!list.loose) html = html.replace(/^<p>([\s\S]*?)<\/p>/, "$1");
    return `<li>${html}</li>`;
  });
  const start = list.kind === "ol" && list.start !== 1 ? ` start="${list.start}"` : "";
  return `<${list.kind}${start}>${items.join("")}</${list.kind}>`;
}

// Escaped lines to HTML blocks.
function blocks(lines, citations) {
  const out = [];
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) out.push(`<p>${inline(paragraph.join("<br>"), citations)}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (FENCE.test(line)) {
      flush();
      // The language after the fence is a label only: letters, digits, "+", "#", "-".
      const language = line.replace(FENCE, "").trim().match(/^[\w+#-]{1,20}$/)?.[0];
      const code = [];
      while (++i < lines.length && !FENCE.test(lines[i])) code.push(lines[i]);
      const label = language ? ` data-language="${language}"` : "";
      out.push(`<pre${label}><code>${code.join("\n")}</code></pre>`);
    } else if (/^#{1,3}\s/.test(line)) {
      flush();
      const level = line.match(/^#+/)[0].length + 2; // h3..h5 inside a message
      out.push(`<h${level}>${inline(line.replace(/^#+\s/, ""), citations)}</h${level}>`);
    } else if (ITEM.test(line) && !(paragraph.length && /^\d/.test(line.trim()) && !/^1[.)]/.test(line.trim()))) {
      // (An ordered item interrupts a paragraph only when it is "1.": "in 2024. We..." is prose.)
      flush();
      const list = collectList(lines, i);
      out.push(renderList(list, citations));
      i = list.end - 1;
    } else if (line.trim() === "") {
      flush();
    } else {
      paragraph.push(line);
    }
  }
  flush();
  return out.join("");
}

// Markdown to HTML. `citations` is how many sources the answer has: [n] within that range
// becomes a citation marker.
export function renderMarkdown(source, citations = 0) {
  return blocks(escapeHtml(source.replace(/\r\n?/g, "\n").replace(/\t/g, "    ")).split("\n"), citations);
}
