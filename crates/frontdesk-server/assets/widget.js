/*! Frontdesk live-chat widget. Embed on any page with:
 *    <script src="https://HOST/widget.js" data-frontdesk async></script>
 *  Optional attributes: data-open="true" (open on load), data-color="#4f46e5" (accent).
 *  Dependency-free ES2017, pure ASCII source (safe under any charset).
 *  Message text is only ever rendered with textContent. */
(function () {
  'use strict';
  if (window.FrontdeskWidget) return;

  const script = document.currentScript || document.querySelector('script[data-frontdesk]');
  const src = script && script.src ? script.src : '';
  // Base URL = the script URL minus its file name (so a server mounted under a path works too).
  const BASE = src ? src.replace(/[?#].*$/, '').replace(/\/[^/]*$/, '') : location.origin;
  const API = BASE + '/api/v1/chat';
  const STORE_KEY = 'frontdesk.session';
  const attr = (name) => (script && script.getAttribute('data-' + name)) || '';
  const color = /^#[0-9a-f]{3,8}$/i.test(attr('color')) ? attr('color') : '#4f46e5';
  const AUTHORS = ['visitor', 'agent', 'human', 'system'];

  const store = {
    get() {
      try {
        const s = JSON.parse(localStorage.getItem(STORE_KEY));
        return s && s.conversation_id && s.visitor_token ? s : null;
      } catch (e) { return null; }
    },
    set(s) { try { localStorage.setItem(STORE_KEY, JSON.stringify(s)); } catch (e) { /* storage blocked */ } },
    clear() { try { localStorage.removeItem(STORE_KEY); } catch (e) { /* storage blocked */ } },
  };

  let session = store.get();
  let sessionPromise = null;
  let identity = {};
  const config = { agent_name: 'Support', powered_by_ai: false, greeting: null };
  const seen = new Map(); // message id -> element; guarantees an id is never rendered twice
  let lastId = 0; // newest message id shown (for ?after=)
  let lastReplyId = 0; // newest non-visitor message id shown
  let es = null, esRetry = null, typingTimer = null;
  let isOpen = false, loaded = false;

  // ---------------------------------------------------------------- DOM
  // The widget's styles. No `${...}` in it: the server serves this same text as
  // /widget.css (the fallback below), and the accent colour is set on the host.
  const CSS = `
:host{all:initial!important;display:block!important}
*{box-sizing:border-box;font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
[hidden]{display:none!important}
.launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:56px;height:56px;border:0;border-radius:50%;
  background:var(--fd-color);color:#fff;cursor:pointer;display:flex;align-items:center;justify-content:center;
  box-shadow:0 6px 20px rgba(0,0,0,.25);transition:transform .15s}
.launcher:hover{transform:scale(1.06)}
.launcher svg{width:26px;height:26px;fill:currentColor}
.launcher .i-close,.launcher.open .i-chat{display:none}
.launcher.open .i-close{display:block}
.badge{position:absolute;top:4px;right:4px;width:12px;height:12px;border-radius:50%;background:#ef4444;border:2px solid #fff}
.panel{position:fixed;right:20px;bottom:88px;z-index:2147483000;width:370px;max-width:calc(100vw - 40px);
  height:560px;max-height:calc(100vh - 120px);display:flex;flex-direction:column;background:#fff;color:#1f2330;
  border-radius:14px;overflow:hidden;box-shadow:0 12px 40px rgba(0,0,0,.22)}
header{background:var(--fd-color);color:#fff;padding:12px 14px;display:flex;align-items:center;gap:8px}
.who{display:flex;flex-direction:column;min-width:0}
.title{font-weight:600;font-size:15px;white-space:nowrap;overflow:hidden;text-overflow:ellipsis}
.powered{font-size:11px;opacity:.85;margin-top:1px}
.close{margin-left:auto;background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 6px;border-radius:6px}
.log{flex:1;overflow-y:auto;padding:14px 12px;background:#f6f7f9;display:flex;flex-direction:column;gap:8px}
.msg{max-width:85%;padding:8px 11px;border-radius:12px;font-size:14px;line-height:1.45;overflow-wrap:anywhere}
.msg .text{white-space:pre-wrap}
.msg[data-author=visitor]{align-self:flex-end;background:var(--fd-color);color:#fff;border-bottom-right-radius:4px}
.msg[data-author=agent],.msg[data-author=human]{align-self:flex-start;background:#fff;border:1px solid #e3e5ea;border-bottom-left-radius:4px}
.msg[data-author=system]{align-self:center;max-width:95%;padding:2px 8px;background:none;color:#6b7080;font-size:12px;text-align:center}
.msg.pending{opacity:.6}
.label{display:block;font-size:11px;font-weight:700;color:#6b7080;margin-bottom:2px;text-transform:uppercase;letter-spacing:.03em}
.cites{margin-top:8px;padding-top:6px;border-top:1px solid #eceef2;font-size:12px;color:#4b5060}
.cites ol{margin:2px 0 0;padding-left:18px}
.cites a{color:var(--fd-color)}
.fb{margin-top:6px;display:flex;gap:4px;align-items:center;font-size:12px;color:#6b7080}
.fb button{border:1px solid #e3e5ea;background:#fff;border-radius:6px;cursor:pointer;padding:1px 7px;font-size:13px;line-height:1.5}
.fb button:hover{background:#f0f1f4}
.typing{align-self:flex-start;background:#fff;border:1px solid #e3e5ea;border-radius:12px;padding:8px 12px;display:flex;gap:4px}
.typing i{width:6px;height:6px;border-radius:50%;background:#9aa0ad;animation:fd-b 1s infinite ease-in-out}
.typing i:nth-child(2){animation-delay:.15s}.typing i:nth-child(3){animation-delay:.3s}
@keyframes fd-b{0%,80%,100%{opacity:.3}40%{opacity:1}}
form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e5ea;background:#fff;margin:0}
textarea{flex:1;resize:none;border:1px solid #d0d3da;border-radius:8px;padding:8px 10px;font-size:14px;line-height:1.4;
  max-height:120px;color:#1f2330;background:#fff}
textarea:focus{outline:none;border-color:var(--fd-color)}
.send{background:var(--fd-color);color:#fff;border:0;border-radius:8px;padding:0 16px;font-size:14px;font-weight:600;cursor:pointer}
button:focus-visible,a:focus-visible{outline:2px solid #111;outline-offset:2px}
@media (max-width:480px){
  .panel{right:0;bottom:0;width:100vw;max-width:none;height:100%;max-height:none;border-radius:0}
  .launcher.open{display:none}
  textarea{font-size:16px}
}`;

  const host = document.createElement('frontdesk-widget'); // custom tag: generic page `div` rules don't match
  host.setAttribute('data-frontdesk-root', '');
  host.style.setProperty('--fd-color', color); // CSSOM, which no style-src rule blocks
  const root = host.attachShadow({ mode: 'open' });
  // Styles without a style element, so a page whose CSP has no 'unsafe-inline'
  // in style-src shows the widget as designed: a constructed stylesheet (not
  // subject to style-src), or in browsers without them the same CSS as a file
  // from this server (allowed when the page allows styles from it).
  let styled = false;
  try {
    if ('adoptedStyleSheets' in ShadowRoot.prototype && 'replaceSync' in CSSStyleSheet.prototype) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
      styled = true;
    }
  } catch (e) { /* constructable stylesheets unsupported */ }
  // Static markup only; nothing user- or server-provided goes through innerHTML.
  root.innerHTML = `
<button class="launcher" type="button" data-fd="launcher" aria-label="Open chat" aria-expanded="false" aria-controls="fd-panel">
<svg class="i-chat" viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>
<svg class="i-close" viewBox="0 0 24 24" aria-hidden="true"><path d="M6.4 5 12 10.6 17.6 5 19 6.4 13.4 12l5.6 5.6-1.4 1.4-5.6-5.6L6.4 19 5 17.6 10.6 12 5 6.4z"/></svg>
<span class="badge" hidden></span></button>
<section class="panel" id="fd-panel" data-fd="panel" role="dialog" aria-label="Chat" hidden>
<header><div class="who"><div class="title" data-fd="agent-name"></div></div>
<button class="close" type="button" data-fd="close" aria-label="Close chat">&times;</button></header>
<div class="log" data-fd="messages" role="log" aria-live="polite" aria-label="Conversation"></div>
<form><textarea data-fd="input" rows="1" aria-label="Type your message" placeholder="Type your message&hellip;"></textarea>
<button class="send" type="submit" data-fd="send" aria-label="Send message">Send</button></form>
</section>`;
  if (!styled) {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = BASE + '/widget.css';
    root.prepend(link);
  }
  const $ = (sel) => root.querySelector(sel);
  const launcher = $('.launcher');
  const badge = $('.badge');
  const panel = $('.panel');
  const who = $('.who');
  const nameEl = $('.title');
  const log = $('.log');
  const form = $('form');
  const input = $('textarea');
  const powered = document.createElement('div');
  powered.className = 'powered';
  powered.setAttribute('data-fd', 'powered-by-ai');
  powered.textContent = 'Powered by AI';
  const typingEl = document.createElement('div');
  typingEl.className = 'typing';
  typingEl.setAttribute('data-fd', 'typing');
  typingEl.setAttribute('aria-hidden', 'true');
  typingEl.append(document.createElement('i'), document.createElement('i'), document.createElement('i'));
  nameEl.textContent = config.agent_name;

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  // The scheme allow-list of every link Frontdesk renders (frontdesk_core::links):
  // http, https, mailto, tel, and relative links (resolved against the server).
  // The browser's own URL parser reads the scheme, so obfuscated forms
  // (JaVaScRiPt:, java\tscript:, leading control characters) are seen as what they are.
  const SCHEMES = ['http:', 'https:', 'mailto:', 'tel:'];
  function safeUrl(url) {
    if (typeof url !== 'string' || !url) return null;
    try {
      const u = new URL(url, BASE);
      return SCHEMES.indexOf(u.protocol) >= 0 ? u.href : null;
    } catch (e) { return null; }
  }

  function bubble(m, local) {
    const author = AUTHORS.indexOf(m.author) >= 0 ? m.author : 'system';
    const citations = (Array.isArray(m.citations) ? m.citations : [])
      .filter((c) => c && c.title)
      .map((c) => ({ title: String(c.title), url: typeof c.url === 'string' && c.url ? c.url : null }));
    const b = el('div', 'msg');
    b.setAttribute('data-fd', 'message');
    b.setAttribute('data-author', author);
    b._fd = { id: local ? null : m.id, author, text: m.text == null ? '' : String(m.text), citations };
    if (!local) b.setAttribute('data-id', String(m.id));
    if (author === 'human') b.appendChild(el('span', 'label', 'Team'));
    b.appendChild(el('div', 'text', b._fd.text));
    if (author === 'agent' && citations.length) {
      const box = el('div', 'cites');
      box.setAttribute('data-fd', 'citations');
      box.appendChild(el('span', null, 'Sources'));
      const ol = el('ol');
      for (const c of citations) {
        const url = safeUrl(c.url);
        const n = el(url ? 'a' : 'span', null, c.title);
        if (url) { n.href = url; n.target = '_blank'; n.rel = 'noopener noreferrer'; }
        n.setAttribute('data-fd', 'citation');
        const li = el('li');
        li.appendChild(n);
        ol.appendChild(li);
      }
      box.appendChild(ol);
      b.appendChild(box);
    }
    if (author === 'agent' && !local) b.appendChild(feedbackBox(m.id));
    return b;
  }

  function feedbackBox(id) {
    const box = el('div', 'fb');
    const mk = (helpful, label, glyph, hook) => {
      const btn = el('button', null, glyph);
      btn.type = 'button';
      btn.title = label;
      btn.setAttribute('aria-label', label);
      btn.setAttribute('data-fd', hook);
      btn.addEventListener('click', () => sendFeedback(id, helpful, box));
      return btn;
    };
    box.append(mk(true, 'Helpful', '\u{1F44D}', 'feedback-up'), mk(false, 'Not helpful', '\u{1F44E}', 'feedback-down'));
    return box;
  }

  // Server messages are kept in id order; local notes / pending bubbles go after them.
  function insert(b) {
    const id = b._fd.id;
    let before = typingEl.parentNode === log ? typingEl : null;
    if (id != null) {
      for (const c of log.children) {
        if ((c._fd && c._fd.id != null && c._fd.id > id) || c.classList.contains('pending')) { before = c; break; }
      }
    }
    log.insertBefore(b, before);
  }

  function scrollDown(force) {
    if (force || log.scrollHeight - log.scrollTop - log.clientHeight < 120) log.scrollTop = log.scrollHeight;
  }

  function note(text) {
    insert(bubble({ author: 'system', text }, true));
    scrollDown(true);
  }

  function typing(on) {
    clearTimeout(typingTimer);
    if (on) {
      log.appendChild(typingEl);
      typingTimer = setTimeout(() => typing(false), 60000);
      scrollDown(true);
    } else typingEl.remove();
  }

  // A reply being written (the LLM streams it): one provisional bubble,
  // replaced by the stored message when it arrives.
  let draftEl = null;
  function dropDraft() {
    if (draftEl) { draftEl.remove(); draftEl = null; }
  }
  function draftText(d) {
    if (!d || typeof d.text !== 'string') return;
    if (!draftEl || draftEl._step !== d.step) {
      dropDraft();
      draftEl = bubble({ author: 'agent', text: '' }, true);
      draftEl.classList.add('draft');
      draftEl.setAttribute('data-fd', 'draft');
      draftEl._step = d.step;
      typing(false);
      log.appendChild(draftEl);
    }
    draftEl._fd.text += d.text;
    draftEl.querySelector('.text').textContent = draftEl._fd.text;
    scrollDown(false);
  }

  function receive(m) {
    if (!m || typeof m.id !== 'number' || seen.has(m.id)) return;
    if (m.author === 'agent') dropDraft();
    if (m.author === 'visitor') {
      // Our own optimistic bubble may still be waiting for its POST response.
      const p = Array.from(log.querySelectorAll('.pending')).find((x) => x._fd.text === String(m.text));
      if (p) p.remove();
    }
    const b = bubble(m, false);
    seen.set(m.id, b);
    lastId = Math.max(lastId, m.id);
    insert(b);
    if (m.author !== 'visitor') {
      lastReplyId = Math.max(lastReplyId, m.id);
      typing(false);
      if (!isOpen && loaded) badge.hidden = false;
    }
    scrollDown(m.author === 'visitor');
  }

  function applyConfig(c) {
    if (!c) return;
    if (typeof c.agent_name === 'string' && c.agent_name) config.agent_name = c.agent_name;
    if (typeof c.powered_by_ai === 'boolean') config.powered_by_ai = c.powered_by_ai;
    if (c.greeting !== undefined) config.greeting = c.greeting;
    nameEl.textContent = config.agent_name;
    panel.setAttribute('aria-label', 'Chat with ' + config.agent_name);
    if (config.powered_by_ai) who.appendChild(powered); else powered.remove();
  }

  // ---------------------------------------------------------------- HTTP
  function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (session) headers.Authorization = 'Bearer ' + session.visitor_token;
    return fetch(API + path, {
      method, headers, credentials: 'omit', body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async function userError(res) {
    let msg = null;
    try { const b = await res.json(); if (b && typeof b.message === 'string') msg = b.message; } catch (e) { /* not JSON */ }
    const err = new Error(msg || (res.status >= 500 ? 'Something went wrong. Please try again.' : 'Your message could not be sent.'));
    err.user = true;
    return err;
  }

  // The stored conversation is gone (404/401): forget it and its messages; the next send starts afresh.
  function dropSession() {
    if (es) { es.close(); es = null; }
    session = null;
    store.clear();
    for (const b of seen.values()) b.remove();
    seen.clear();
    lastId = lastReplyId = 0;
  }

  async function ensureSession() {
    if (session) return session;
    if (!sessionPromise) {
      sessionPromise = (async () => {
        try {
          const r = await api('POST', '/sessions', identity);
          if (!r.ok) throw await userError(r);
          const b = await r.json();
          session = { conversation_id: b.conversation_id, visitor_token: b.visitor_token };
          store.set(session);
          connect();
          return session;
        } finally { sessionPromise = null; }
      })();
    }
    return sessionPromise;
  }

  // Fetches everything after the newest message we have. Returns false if the session is gone.
  async function catchUp() {
    const s = session;
    if (!s) return false;
    try {
      const r = await api('GET', `/conversations/${s.conversation_id}/messages?after=${lastId}`);
      if (r.status === 404 || r.status === 401) { if (session === s) dropSession(); return false; }
      if (r.ok) {
        const list = await r.json();
        if (Array.isArray(list)) list.sort((a, b) => a.id - b.id).forEach(receive);
      }
    } catch (e) { /* offline; retry later */ }
    return true;
  }

  function connect() {
    if (!session || es || typeof EventSource === 'undefined') return;
    const s = session;
    es = new EventSource(`${API}/conversations/${s.conversation_id}/stream?token=${encodeURIComponent(s.visitor_token)}`);
    es.addEventListener('open', catchUp); // closes any gap between history fetch / reconnect and the stream
    es.addEventListener('message', (e) => { try { receive(JSON.parse(e.data)); } catch (x) { /* ignore */ } });
    es.addEventListener('config', (e) => { try { applyConfig(JSON.parse(e.data)); } catch (x) { /* ignore */ } });
    es.addEventListener('delta', (e) => { try { draftText(JSON.parse(e.data)); } catch (x) { /* ignore */ } });
    es.addEventListener('discard', () => { dropDraft(); typing(true); });
    es.addEventListener('error', () => {
      // The browser retries by itself unless the server answered with an error status.
      if (!es || es.readyState !== EventSource.CLOSED) return;
      es = null;
      clearTimeout(esRetry);
      esRetry = setTimeout(async () => { if (await catchUp()) connect(); }, 5000);
    });
  }

  async function send(text) {
    text = String(text == null ? '' : text).trim();
    if (!text) return false;
    const pending = bubble({ author: 'visitor', text }, true);
    pending.classList.add('pending');
    insert(pending);
    scrollDown(true);
    try {
      let r;
      for (let attempt = 0; ; attempt++) {
        const s = await ensureSession();
        r = await api('POST', `/conversations/${s.conversation_id}/messages`, { text });
        // A stored conversation may have expired server-side: start a fresh one once.
        if ((r.status === 404 || r.status === 401) && attempt === 0) { dropSession(); continue; }
        break;
      }
      if (!r.ok) throw await userError(r);
      const id = (await r.json()).id;
      if (typeof id === 'number' && !seen.has(id)) {
        pending.remove();
        pending.classList.remove('pending');
        pending._fd.id = id;
        pending.setAttribute('data-id', String(id));
        seen.set(id, pending);
        lastId = Math.max(lastId, id);
        insert(pending);
      } else pending.remove();
      if (!(lastReplyId > id)) typing(true);
      return true;
    } catch (e) {
      pending.remove();
      note(e.user ? e.message : 'Could not reach the server. Please try again.');
      return false;
    }
  }

  async function sendFeedback(id, helpful, box) {
    const buttons = Array.from(box.querySelectorAll('button'));
    buttons.forEach((b) => { b.disabled = true; });
    try {
      if (!session) throw new Error('no session');
      const r = await api('POST', `/conversations/${session.conversation_id}/messages/${id}/feedback`, { helpful });
      if (!r.ok) throw await userError(r);
      box.textContent = 'Thanks for your feedback';
      box.setAttribute('data-fd', 'feedback-thanks');
    } catch (e) {
      buttons.forEach((b) => { b.disabled = false; });
      note(e.user ? e.message : 'Could not send feedback. Please try again.');
    }
  }

  // ---------------------------------------------------------------- UI wiring
  function setOpen(v) {
    isOpen = v;
    panel.hidden = !v;
    launcher.classList.toggle('open', v);
    launcher.setAttribute('aria-expanded', String(v));
    launcher.setAttribute('aria-label', v ? 'Close chat' : 'Open chat');
    if (v) {
      badge.hidden = true;
      scrollDown(true);
      input.focus();
    }
  }

  function autosize() {
    input.style.height = 'auto';
    input.style.height = Math.min(input.scrollHeight + 2, 120) + 'px';
  }

  function submit() {
    const text = input.value;
    if (!text.trim()) return;
    input.value = '';
    autosize();
    input.focus();
    send(text).then((ok) => { if (!ok && !input.value) { input.value = text; autosize(); } });
  }

  launcher.addEventListener('click', () => setOpen(!isOpen));
  $('.close').addEventListener('click', () => { setOpen(false); launcher.focus(); });
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { setOpen(false); launcher.focus(); } });
  form.addEventListener('submit', (e) => { e.preventDefault(); submit(); });
  input.addEventListener('input', autosize);
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });

  async function init() {
    const cfg = fetch(API + '/config', { headers: { Accept: 'application/json' }, credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : null)).catch(() => null);
    if (session) await catchUp();
    applyConfig(await cfg);
    if (config.greeting && !log.querySelector('[data-id]')) {
      log.insertBefore(bubble({ author: 'agent', text: config.greeting }, true), log.firstChild);
    }
    connect();
    loaded = true;
    // Safety net when the stream is unavailable (old browser, buffering proxy, reconnecting).
    setInterval(() => {
      if (session && (!es || es.readyState !== 1) && document.visibilityState !== 'hidden') catchUp();
    }, 5000);
  }

  function mount() {
    document.body.appendChild(host);
    if (attr('open') === 'true') setOpen(true);
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);

  window.FrontdeskWidget = {
    ready: init(),
    open() { setOpen(true); },
    close() { setOpen(false); },
    send,
    identify(info) { identity = { name: info && info.name, email: info && info.email }; },
    messages() {
      return Array.from(log.children).filter((c) => c._fd).map((c) => ({
        id: c._fd.id, author: c._fd.author, text: c._fd.text, citations: c._fd.citations.map((x) => Object.assign({}, x)),
      }));
    },
  };
})();
