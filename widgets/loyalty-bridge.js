/*! Loyalty Bridge shopper widget. Vanilla JS, no build step, no framework: see README "Widget" and
 * docs/adr/0006-widgets.md. Everything runs inside one shadow root; nothing is written into the page but the
 * host element, and every entry point is wrapped so that a fault here never throws into the shop's page. */
(function (w, d) {
  'use strict';
  var perf = w.performance;
  function mark(name) {
    try { if (perf && perf.mark) perf.mark(name); } catch (e) { /* marks are for the benchmark only */ }
  }
  mark('lb:start');
  if (w.__loyaltyBridge) return; // the snippet pasted twice: one widget
  w.__loyaltyBridge = true;

  var me = d.currentScript;
  var ds = (me && me.dataset) || {};
  var g = w.LoyaltyBridge && typeof w.LoyaltyBridge === 'object' ? w.LoyaltyBridge : {};
  var html = d.documentElement;

  function warn(e) {
    // A warning, never an error log: the shop's own error monitoring must not page anyone for us.
    try { w.console.warn('[loyalty-bridge]', (e && e.message) || e); } catch (_) { /* no console */ }
  }
  function safe(fn) {
    return function () {
      try { return fn.apply(this, arguments); } catch (e) { warn(e); }
    };
  }

  var cfg = {};
  try {
    cfg = {
      bridge: String(ds.bridge || g.bridge || (me && me.src ? new URL(me.src, d.baseURI).origin : '')).replace(/\/+$/, ''),
      shop: ds.shop || g.shop || '',
      token: ds.token || g.token || '',
      tokenUrl: ds.tokenUrl || g.tokenUrl || '',
      locale: ds.locale || g.locale || html.lang || 'en',
      signup: ds.signupUrl || g.signupUrl || '',
      login: ds.loginUrl || g.loginUrl || '',
      storeApi: ds.storeApi || g.storeApi || '/wp-json/wc/store/v1',
      position: ds.position === 'bottom-left' ? 'bottom-left' : 'bottom-right',
      label: ds.label || g.label || ''
    };
  } catch (e) { warn(e); return; }

  // English fallbacks for what must show before (or without) the language file: the launcher and the offline note.
  var FALLBACK = {
    launcher: 'Rewards',
    close: 'Close',
    unreachable: 'Our rewards club cannot be reached right now. Your points are safe; please try again in a moment.',
    retry: 'Try again'
  };
  var M = FALLBACK;
  var lang = 'en';
  var loc = 'en';
  var ref = '';
  var refRead = false;
  // A friend's referral code from ?ref=, kept for the visit. Read after the launcher's frame: the first touch of
  // sessionStorage can block on the browser's storage process.
  function readRef() {
    if (refRead) return;
    refRead = true;
    try {
      ref = new URLSearchParams(w.location.search).get('ref') || '';
      if (ref) w.sessionStorage.setItem('lb-ref', ref);
      else ref = w.sessionStorage.getItem('lb-ref') || '';
    } catch (e) { /* storage blocked: the ref only lives on this page */ }
    ref = ref.slice(0, 64);
  }

  function t(key, vars) {
    var s = M[key] != null ? M[key] : FALLBACK[key] != null ? FALLBACK[key] : key;
    return vars ? String(s).replace(/\{(\w+)\}/g, function (_, n) { return vars[n] != null ? vars[n] : ''; }) : s;
  }
  // A count's message: key_one, key_other... chosen by Intl.PluralRules for the language ({n} is the count).
  function tp(key, count, vars) {
    var cat = 'other';
    try { cat = new Intl.PluralRules(loc).select(Number(count)); } catch (e) { /* other */ }
    var k = M[key + '_' + cat] != null ? key + '_' + cat : M[key + '_other'] != null ? key + '_other' : key;
    return t(k, Object.assign({ n: num(count) }, vars));
  }
  function fmt(n, opts) {
    try { return new Intl.NumberFormat(loc, opts).format(n); } catch (e) { return String(n); }
  }
  function num(n) { return fmt(Number(n) || 0); }
  // Money in the shop's currency (club.currency), with its minor unit.
  function money(amount) {
    var c = club(), mu = c.minor_unit;
    if (!c.currency) return num(amount);
    var o = { style: 'currency', currency: c.currency };
    if (mu != null) { o.minimumFractionDigits = mu; o.maximumFractionDigits = mu; }
    return fmt(Number(amount), o);
  }
  // A reward (or a redemption of one) by what it is worth, in the shopper's language; the owner's title otherwise.
  function rewardName(r) {
    var own = (r.title_locales || []).some(function (l) { return l.split('-')[0] === lang.split('-')[0]; });
    if (own && r.title) return r.title; // the owner wrote this reward's title in the shopper's language
    var v = Number(r.value);
    if (r.type === 'fixed_cart' || r.type === 'variable' && r.points_cost == null && r.min_points == null && v) {
      return t('reward_fixed', { amount: money(v) });
    }
    if (r.type === 'percent') return t('reward_percent', { percent: fmt(v / 100, { style: 'percent', maximumFractionDigits: 2 }) });
    if (r.type === 'free_shipping') return t('reward_free_shipping');
    if (r.type === 'variable') return t('reward_variable');
    return r.title || '';
  }
  // A way to earn the bridge described (i18n: message keys and numbers), in the shopper's language.
  function wayText(key, v) {
    if (key === 'way_campaign_text') {
      var days = (v.weekdays || []).map(function (d) {
        try { return new Intl.DateTimeFormat(loc, { weekday: 'long', timeZone: 'UTC' }).format(new Date(Date.UTC(2024, 0, 1 + d))); } catch (e) { return String(d); }
      });
      return [
        v.multiplier ? t('way_times', { multiplier: num(v.multiplier) }) : '',
        v.points ? tp('way_bonus', v.points) : '',
        v.until ? t('way_until', { date: date(v.until) }) : '',
        days.length ? t('way_on_days', { days: days.join(t('list_sep')) }) : ''
      ].filter(Boolean).join(' ');
    }
    if (!key || M[key + '_other'] == null && M[key] == null) return '';
    var vars = {
      amount: money(v.amount), minimum: money(v.minimum), multiplier: num(v.multiplier), every: num(v.every),
      nth: num(v.nth), days: num(v.days), what: v.what
    };
    return tp(key, v.points, vars);
  }
  function date(iso) {
    try { return new Intl.DateTimeFormat(loc, { dateStyle: 'medium' }).format(new Date(iso)); } catch (e) { return iso; }
  }

  // -- DOM helpers (textContent only: nothing from the network is ever parsed as HTML) ---------------------------
  function h(tag, props, kids) {
    var el = d.createElement(tag);
    for (var k in props || {}) {
      var v = props[k];
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (k.slice(0, 2) === 'on') el.addEventListener(k.slice(2), safe(v));
      else el.setAttribute(k, v === true ? '' : v);
    }
    (kids || []).forEach(function (c) {
      if (c) el.appendChild(typeof c === 'string' ? d.createTextNode(c) : c);
    });
    return el;
  }
  function fill(el, kids) {
    el.textContent = '';
    kids.forEach(function (c) { if (c) el.appendChild(c); });
    return el;
  }

  var CSS =
    ':host{all:initial}[hidden]{display:none!important}' +
    '.lb{--a:var(--lb-accent,#1d4f91);--at:var(--lb-accent-text,#fff);--bg:var(--lb-bg,#fff);--fg:var(--lb-fg,#1a1a1a);' +
    '--mu:var(--lb-muted,#4a4a4a);--r:var(--lb-radius,14px);font:14px/1.45 var(--lb-font,system-ui,-apple-system,"Segoe UI",Tahoma,sans-serif);color:var(--fg)}' +
    '.launcher{position:fixed;bottom:var(--lb-offset-y,20px);right:var(--lb-offset-x,20px);z-index:2147483000;display:flex;align-items:center;gap:8px;' +
    'padding:12px 18px;border:0;border-radius:999px;background:var(--a);color:var(--at);font:600 15px/1.1 inherit;font-family:inherit;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.28)}' +
    '.launcher svg{width:20px;height:20px;fill:currentColor}' +
    '.panel{position:fixed;bottom:calc(var(--lb-offset-y,20px) + 60px);right:var(--lb-offset-x,20px);z-index:2147483001;width:min(380px,calc(100vw - 24px));' +
    'max-height:min(640px,calc(100vh - 110px));overflow:auto;background:var(--bg);border-radius:var(--r);box-shadow:0 10px 40px rgba(0,0,0,.3);animation:lb-in .18s ease-out}' +
    '.left .launcher,.left .panel{right:auto;left:var(--lb-offset-x,20px)}' +
    '@media (max-width:480px){.panel,.left .panel{left:10px;right:10px;width:auto}}' +
    '@keyframes lb-in{from{opacity:0;transform:translateY(8px)}}' +
    '@media (prefers-reduced-motion:reduce){.panel{animation:none}*{transition:none!important}}' +
    'header{position:sticky;top:0;display:flex;justify-content:space-between;align-items:center;padding:12px 16px;background:var(--a);color:var(--at)}' +
    'h2{margin:0;font-size:17px}h3{font-size:14px;margin:16px 0 6px}p{margin:6px 0}' +
    '.x{background:none;border:0;color:inherit;font-size:24px;line-height:1;cursor:pointer;padding:2px 8px;border-radius:6px}' +
    '.body{padding:12px 16px 18px}' +
    ':focus-visible{outline:3px solid var(--lb-focus,#111);outline-offset:2px;box-shadow:0 0 0 2px #fff}' +
    '.btn{display:inline-block;padding:7px 14px;border-radius:8px;border:2px solid var(--a);background:var(--a);color:var(--at);cursor:pointer;text-decoration:none;font:600 14px/1.3 inherit;font-family:inherit}' +
    '.alt{background:var(--bg);color:var(--a)}.btn[disabled],.btn[aria-disabled=true]{background:#6b6b6b;border-color:#6b6b6b;color:#fff;cursor:wait}' +
    '.bal{display:flex;gap:24px;align-items:flex-end}.big{font-size:30px;font-weight:700;line-height:1.1}.mid{font-size:20px;font-weight:600}' +
    '.mu{color:var(--mu)}ul{list-style:none;margin:0;padding:0}' +
    'li{display:flex;justify-content:space-between;align-items:center;gap:10px;padding:9px 0;border-bottom:1px solid #d6d6d6}' +
    'li>div{min-width:0}li>strong{white-space:nowrap}.pend li{display:list-item;border:0;padding:2px 0}' +
    '.tabs{display:flex;margin:14px 0 4px;border-bottom:2px solid #d6d6d6;overflow-x:auto;scrollbar-width:none}' +
    '[role=tab]{flex:1 0 auto;white-space:nowrap;padding:8px 6px 6px;border:0;border-bottom:3px solid transparent;margin-bottom:-2px;background:none;color:var(--mu);font:600 13px/1.2 inherit;font-family:inherit;cursor:pointer}' +
    '[role=tab][aria-selected=true]{color:var(--a);border-bottom-color:var(--a)}' +
    'progress{width:100%;height:8px;accent-color:var(--a)}' +
    '.code{font:700 20px/1.2 ui-monospace,Menlo,Consolas,monospace;letter-spacing:1px;padding:10px;margin:8px 0;border:2px dashed var(--a);border-radius:8px;text-align:center;direction:ltr;user-select:all}' +
    '.msg{padding:10px;border-radius:8px;background:#f1f1f1;color:var(--fg)}' +
    'input{padding:8px;border:1px solid #6b6b6b;border-radius:6px;width:100%;box-sizing:border-box;font:inherit;color:var(--fg);background:var(--bg)}' +
    '.row{display:flex;gap:8px;flex-wrap:wrap;margin-top:10px;align-items:center}.row input{width:7em}' +
    '.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}' +
    '.ltr{direction:ltr;unicode-bidi:embed}.tier{margin:10px 0}.tier b{color:var(--a)}.tier li{display:list-item;border:0;padding:1px 0}.tier .pc li{display:flex;padding:6px 0}';

  var host, root, wrap, launcher, launcherText, panel, title, body, live;
  var st = { open: false, data: null, mode: '', tab: 'rewards', token: '', nonce: '', keys: {} };

  // -- mount: the launcher paints at once, before any network call ---------------------------------------------
  function mount() {
    host = d.createElement('div');
    host.id = 'loyalty-bridge';
    // Colours from data-* go in as custom properties through the CSSOM, which a strict CSP allows.
    if (ds.color) host.style.setProperty('--lb-accent', ds.color);
    if (ds.textColor) host.style.setProperty('--lb-accent-text', ds.textColor);
    root = host.attachShadow({ mode: 'open' });
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } catch (e) {
      root.appendChild(h('style', { text: CSS })); // older engines: a <style> inside the shadow root
    }
    var svg = d.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    var path = d.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M20 7h-2.2A3 3 0 0 0 12 3.8 3 3 0 0 0 6.2 7H4a1 1 0 0 0-1 1v3a1 1 0 0 0 1 1v8a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-8a1 1 0 0 0 1-1V8a1 1 0 0 0-1-1Zm-7-1a1 1 0 1 1 1 1h-1Zm-3-1a1 1 0 0 1 1 1v1h-1a1 1 0 0 1 0-2Zm1 15H6v-8h5Zm0-10H5V9h6Zm7 10h-5v-8h5Zm1-10h-6V9h6Z');
    svg.appendChild(path);
    launcherText = h('span', { text: cfg.label || t('launcher') });
    launcher = h('button', {
      type: 'button', class: 'launcher', 'aria-haspopup': 'dialog', 'aria-expanded': 'false',
      onclick: toggle
    }, [svg, launcherText]);
    wrap = h('div', { class: 'lb' + (cfg.position === 'bottom-left' ? ' left' : ''), lang: 'en', dir: 'ltr' }, [launcher]);
    root.appendChild(wrap);
    d.body.appendChild(host);
    mark('lb:launcher');
    // The frame that shows the launcher: rAF runs just before it is painted, the task after it runs once it was.
    if (w.requestAnimationFrame) w.requestAnimationFrame(function () { mark('lb:launcher-frame'); setTimeout(function () { mark('lb:launcher-painted'); }, 0); });
  }

  // The panel is built on first open: the launcher's frame carries nothing else.
  function ensurePanel() {
    if (panel) return;
    title = h('h2', { id: 'lb-title', tabindex: '-1', text: t('launcher') });
    body = h('div', { class: 'body' });
    live = h('p', { class: 'sr', role: 'status', 'aria-live': 'polite' });
    panel = h('div', {
      id: 'lb-panel', class: 'panel', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'lb-title',
      hidden: true, onkeydown: onKey
    }, [h('header', null, [title, h('button', { type: 'button', class: 'x', 'aria-label': t('close'), onclick: close, text: '\u00d7' })]), body, live]);
    wrap.appendChild(panel);
    launcher.setAttribute('aria-controls', 'lb-panel');
  }

  function hasIdentity() { return !!(cfg.token || cfg.tokenUrl); }

  // -- language: one JSON file per language, served by the bridge (fa-IR falls back to fa, then en) --------------
  var langReady = null;
  function loadLanguage() {
    var wanted = String(cfg.locale).toLowerCase().replace(/_/g, '-').replace(/[^a-z0-9-]/g, '') || 'en';
    return fetch(cfg.bridge + '/widget/v1/i18n/' + wanted + '.json', { credentials: 'omit' })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(safe(function (messages) {
        if (!messages) return;
        // Intl is first touched here, not at boot: loading its locale data must not delay the launcher's frame.
        try { loc = Intl.NumberFormat.supportedLocalesOf([cfg.locale]).length ? cfg.locale : 'en'; } catch (e) { loc = 'en'; }
        M = messages;
        lang = messages._lang || 'en';
        if (lang.split('-')[0] !== loc.split('-')[0]) loc = lang; // the page asked for a language we lack
        wrap.setAttribute('lang', lang);
        wrap.setAttribute('dir', messages._dir === 'rtl' ? 'rtl' : 'ltr');
        if (!cfg.label) launcherText.textContent = ref && !hasIdentity() ? t('friend_launcher') : t('launcher');
        if (panel) panel.querySelector('.x').setAttribute('aria-label', t('close'));
      }))
      .catch(function () { /* offline: English fallbacks stay */ });
  }

  // -- network ---------------------------------------------------------------------------------------------------
  function request(url, opts) {
    return fetch(url, opts).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (json) {
        return { status: r.status, ok: r.ok, body: json || {}, headers: r.headers };
      });
    }, function () { return { status: 0, ok: false, offline: true, body: {} }; });
  }
  function token(renew) {
    if (!renew && st.token) return Promise.resolve(st.token);
    if (!renew && cfg.token) return Promise.resolve((st.token = cfg.token));
    if (!cfg.tokenUrl) return Promise.resolve(cfg.token);
    return request(cfg.tokenUrl, { credentials: 'same-origin' }).then(function (res) {
      return (st.token = (res.body && res.body.token) || '');
    });
  }
  function api(method, path, json, headers, retried) {
    return token(false).then(function (tok) {
      var hs = Object.assign({ Authorization: 'Bearer ' + tok }, headers || {});
      if (json) hs['Content-Type'] = 'application/json';
      return request(cfg.bridge + '/widget/v1' + path, {
        method: method, headers: hs, credentials: 'omit', mode: 'cors', body: json ? JSON.stringify(json) : undefined
      });
    }).then(function (res) {
      var code = res.body.error && res.body.error.code;
      if (res.status === 401 && code === 'token_expired' && cfg.tokenUrl && !retried) {
        return token(true).then(function () { return api(method, path, json, headers, true); });
      }
      return res;
    });
  }
  function publicApi(method, path, json) {
    return request(cfg.bridge + '/widget/v1' + path, {
      method: method, credentials: 'omit', mode: 'cors',
      headers: json ? { 'Content-Type': 'application/json' } : {}, body: json ? JSON.stringify(json) : undefined
    });
  }
  function errorText(res) {
    if (res.offline || res.status >= 500 && !res.body.error) return t('unreachable');
    var e = res.body.error || {};
    if (res.status === 401) return t('session_expired');
    if (res.status === 429) return t('rate_limited');
    return (e.code && M['err_' + e.code]) || e.message || t('error_generic');
  }
  function key() {
    try { return w.crypto.randomUUID(); } catch (e) { return Date.now().toString(36) + Math.random().toString(36).slice(2); }
  }

  // -- open / close / keyboard -------------------------------------------------------------------------------------
  function toggle() { if (st.open) close(); else open(); }
  function open() {
    if (st.open) return;
    st.open = true;
    readRef();
    ensurePanel();
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    if (st.data) title.focus();
    else load();
  }
  function close() {
    if (!st.open) return;
    st.open = false;
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus(); // focus returns to what opened the panel
  }
  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll('button:not([disabled]):not([tabindex="-1"]),a[href],input:not([disabled]),[tabindex="0"]'),
      function (el) { return el.getClientRects().length > 0; });
  }
  function onKey(e) {
    if (e.key === 'Escape') { e.stopPropagation(); close(); return; }
    if (e.key !== 'Tab') return;
    var f = focusables();
    if (!f.length) return;
    var i = f.indexOf(root.activeElement);
    if (e.shiftKey && i <= 0) { e.preventDefault(); f[f.length - 1].focus(); }
    else if (!e.shiftKey && i === f.length - 1) { e.preventDefault(); f[0].focus(); }
  }
  // A button waiting for an answer: aria-disabled, not disabled, which would drop the focus to <body> (and with it
  // Escape and the focus trap). Returns true when it was busy already (a second click).
  function busy(btn, on) {
    var was = btn.hasAttribute('aria-disabled');
    if (on) btn.setAttribute('aria-disabled', 'true'); else btn.removeAttribute('aria-disabled');
    return was && on;
  }
  // After the content changed under the focus: focus what the new content offers first, never the page behind.
  function focusIn(el) {
    var f = el.querySelector('[data-focus]') || el.querySelector('button,h3') || title;
    f.focus();
  }
  function say(text) { live.textContent = ''; setTimeout(function () { live.textContent = text; }, 30); }

  // -- loading the view ----------------------------------------------------------------------------------------------
  function load() {
    fill(body, [h('p', { class: 'mu', text: t('loading') })]);
    body.setAttribute('aria-busy', 'true');
    title.focus();
    var seq = (st.seq = (st.seq || 0) + 1); // a later load (Retry, Back) wins over one still in flight
    var work;
    if (hasIdentity()) work = api('GET', '/panel?shop=' + encodeURIComponent(cfg.shop) + '&locale=' + encodeURIComponent(lang)).then(function (res) { return ['member', res]; });
    else if (ref) work = publicApi('GET', '/referral/offer?shop=' + encodeURIComponent(cfg.shop) + '&code=' + encodeURIComponent(ref) + '&locale=' + encodeURIComponent(lang)).then(function (res) { return ['friend', res]; });
    else work = publicApi('GET', '/club?shop=' + encodeURIComponent(cfg.shop) + '&locale=' + encodeURIComponent(lang)).then(function (res) { return ['guest', res]; });
    Promise.all([work, langReady]).then(safe(function (out) {
      var mode = out[0][0], res = out[0][1];
      if (seq !== st.seq) return;
      body.removeAttribute('aria-busy');
      if (mode === 'friend' && !res.ok && !res.offline) {
        // A stale or unknown code: show the club to the visitor rather than a dead end.
        ref = '';
        try { w.sessionStorage.removeItem('lb-ref'); } catch (e) { /* ignore */ }
        st.notice = errorText(res);
        return load();
      }
      if (!res.ok) return showError(res, mode === 'member' && res.status === 401);
      st.data = res.body;
      st.mode = mode;
      if (mode === 'member') renderMember();
      else if (mode === 'friend') renderFriend();
      else renderGuest();
    }));
  }
  function showError(res, noRetry) {
    title.textContent = t('launcher');
    fill(body, [
      h('p', { class: 'msg', role: 'alert', text: errorText(res) }),
      noRetry ? null : h('div', { class: 'row' }, [h('button', { type: 'button', class: 'btn', onclick: load, text: t('retry') })])
    ]);
  }

  // -- member --------------------------------------------------------------------------------------------------------
  function club() { return (st.data && st.data.club) || {}; }
  function renderMember() {
    var p = st.data, m = p.member || {}, rewards = (p.rewards && p.rewards.catalogue) || [];
    title.textContent = club().name || t('launcher');
    var next = rewards.filter(function (r) { return r.points_needed > 0; })
      .sort(function (a, b) { return a.points_needed - b.points_needed; })[0];
    var tabs = ['rewards', 'earn', 'mine', 'history'];
    if (p.referral) tabs.push('invite');
    if (tabs.indexOf(st.tab) < 0) st.tab = 'rewards';
    var box = h('div', { id: 'lb-tab', role: 'tabpanel' });
    // WAI-ARIA tabs: one tab stop (the selected tab), arrow keys, Home and End move between them.
    function select(b, focus) {
      st.tab = b.getAttribute('data-tab');
      Array.prototype.forEach.call(nav.children, function (x) {
        x.setAttribute('aria-selected', String(x === b));
        x.setAttribute('tabindex', x === b ? '0' : '-1');
      });
      box.setAttribute('aria-labelledby', b.id);
      if (focus) b.focus();
      showTab(box);
    }
    var nav = h('div', {
      role: 'tablist', class: 'tabs', 'aria-label': t('sections'),
      onkeydown: function (e) {
        var all = Array.prototype.slice.call(nav.children), i = all.indexOf(root.activeElement), n = all.length;
        var rtl = wrap.getAttribute('dir') === 'rtl', step = { ArrowRight: rtl ? -1 : 1, ArrowLeft: rtl ? 1 : -1 }[e.key];
        var to = step ? all[(i + step + n) % n] : e.key === 'Home' ? all[0] : e.key === 'End' ? all[n - 1] : null;
        if (to && i >= 0) { e.preventDefault(); select(to, true); }
      }
    }, tabs.map(function (id) {
      var on = st.tab === id;
      return h('button', {
        type: 'button', role: 'tab', id: 'lb-t-' + id, 'aria-selected': String(on), tabindex: on ? '0' : '-1', 'aria-controls': 'lb-tab', 'data-tab': id,
        onclick: function (e) { select(e.currentTarget, false); },
        text: t('tab_' + id)
      });
    }));
    box.setAttribute('aria-labelledby', 'lb-t-' + st.tab);
    var nextLine = null;
    if (next) {
      var cost = next.points_cost || next.min_points || 1;
      nextLine = h('div', null, [
        h('p', { text: tp('next_reward', next.points_needed, { title: rewardName(next) }) }),
        h('progress', { max: String(cost), value: String(Math.max(0, cost - next.points_needed)), 'aria-label': t('progress_to', { title: rewardName(next) }) })
      ]);
    } else if (rewards.length) nextLine = h('p', { text: t('all_unlocked') });
    fill(body, [
      h('div', { class: 'bal' }, [
        h('div', null, [h('div', { class: 'big', 'data-lb': 'available', text: num(m.available) }), h('div', { class: 'mu', text: t('available') })]),
        m.pending ? h('div', null, [h('div', { class: 'mid', 'data-lb': 'pending', text: num(m.pending) }), h('div', { class: 'mu', text: t('pending') })]) : null
      ]),
      m.pending ? pendingNote(m.pending_lots) : null,
      tierBox(p.tier), nextLine, nav, box
    ]);
    showTab(box);
  }
  // Tier (issue 16): the badge, the way to the next tier, this tier's benefits, a downgrade warning when one is due.
  function tierBox(s) {
    if (!s || !s.tier && !s.next) return null;
    var c = s.tier, n = s.next, perks = c ? c.perks.map(function (k) { return t('tier_perk_' + k.type + '_' + k.period); }) : [];
    function much(v) { return s.metric === 'spend' ? t('tier_spend', { amount: money(v) }) : tp('tier_' + s.metric, v); }
    function day(v) { return date(v + 'T12:00:00Z'); }
    if (c && Number(c.multiplier) !== 1) perks.unshift(t('tier_multiplier', { x: num(c.multiplier) }));
    return h('div', { class: 'tier', 'data-lb': 'tier' }, [
      c ? h('p', null, [h('b', { text: t('tier_badge', { name: c.name }) })]) : null,
      n ? h('p', { text: t(n.by ? 'tier_next_by' : 'tier_next', { verb: t('tier_verb_' + s.metric), amount: much(n.needed), name: n.name, date: n.by ? day(n.by) : '' }) }) : null,
      n ? h('progress', { max: String(n.threshold), value: String(Math.min(Number(s.value), Number(n.threshold))), 'aria-label': t('tier_progress', { name: n.name }) }) : null,
      perks.length ? h('ul', null, perks.map(function (x) { return h('li', { text: x }); })) : null,
      perkCoupons(s.perk_coupons || []),
      s.warning ? h('p', { class: 'msg', role: 'status', text: t('tier_keep', { amount: much(s.warning.needed), name: c.name, date: day(s.warning.by) }) }) : null
    ]);
  }
  // The tier's perk coupons ready to use (issue 16): the code, and a button to copy it.
  function perkCoupons(items) {
    var ready = items.filter(function (k) { return k.state === 'issued' && k.code; });
    if (!ready.length) return null;
    return h('ul', { class: 'pc', 'data-lb': 'perk-coupons' }, ready.map(function (k) {
      var title = t('tier_perk_coupon_' + k.type);
      var btn = h('button', { type: 'button', class: 'btn alt', 'aria-label': t('copy_named', { title: title }), text: t('copy'), onclick: function () { copy(k.code, btn); } });
      return h('li', null, [
        h('div', null, [h('div', { text: title }), h('div', { class: 'ltr', text: k.code }), h('div', { class: 'mu', text: t('expires', { date: date(k.expires_at) }) })]),
        btn
      ]);
    }));
  }
  // When pending points become available: the date of each lot (order completed + hold), else "once complete".
  function pendingNote(lots) {
    var lines = (lots || []).slice(0, 3).map(function (l) {
      return h('li', { text: l.available_at ? tp('pending_on', l.points, { date: date(l.available_at) }) : tp('pending_until_complete', l.points) });
    });
    return lines.length ? h('ul', { class: 'mu pend' }, lines) : h('p', { class: 'mu', text: t('pending_hint') });
  }
  function showTab(box) {
    var p = st.data, rw = p.rewards || {};
    var views = {
      rewards: function () { return rewardList(rw.catalogue || [], box); },
      earn: function () { return earnList(p.ways_to_earn); },
      mine: function () { return mine(rw.mine || []); },
      history: function () { return history(p.history || []); },
      invite: function () { return invite(p.referral); }
    };
    fill(box, (views[st.tab] || views.rewards)());
  }
  function rewardList(items, box) {
    if (!items.length) return [h('p', { class: 'mu', text: t('no_catalogue') })];
    var closed = st.data.rewards && st.data.rewards.redeemable === false; // the shop cannot make coupons yet
    return [closed ? h('p', { class: 'mu', role: 'note', text: t('rewards_unavailable') }) : null, h('ul', null, items.map(function (r) {
      var cost = costText(r);
      var action;
      if (closed) action = null;
      else if (!r.affordable) action = h('span', { class: 'mu', text: tp('points_needed', r.points_needed) });
      else if (r.points_cost == null) {
        var most = Math.min(r.max_points, Math.floor(st.data.member.available / r.step) * r.step);
        var worth = h('span', { class: 'mu', 'data-lb': 'worth', 'aria-live': 'polite' });
        var input = h('input', {
          type: 'number', min: String(r.min_points), max: String(most), step: String(r.step), value: String(most), 'aria-label': t('points_to_use'), class: 'ltr',
          oninput: function () { worth.textContent = t('worth', { amount: money((parseInt(input.value, 10) || 0) * Number(r.value)) }); }
        });
        worth.textContent = t('worth', { amount: money(most * Number(r.value)) });
        action = h('div', { class: 'row' }, [input, worth, redeemButton(r, box, function () { return parseInt(input.value, 10); })]);
      } else action = redeemButton(r, box);
      return h('li', null, [
        h('div', null, [
          h('strong', { text: rewardName(r) }),
          r.description ? h('p', { class: 'mu', dir: 'auto', text: r.description }) : null,
          Number(r.minimum_amount) > 0 ? h('div', { class: 'mu', text: t('reward_minimum', { amount: money(r.minimum_amount) }) }) : null,
          h('div', { class: 'mu', text: cost })
        ]),
        action
      ]);
    }))];
  }
  function costText(r) {
    if (r.points_cost != null) return tp('points', r.points_cost);
    return t('points_range', { min: num(r.min_points), max: num(r.max_points) }) + ' \u00b7 ' + tp('points_worth', r.step, { amount: money(r.step * Number(r.value)) });
  }
  function redeemButton(r, box, points) {
    var btn = h('button', {
      type: 'button', class: 'btn', 'aria-label': t('redeem_named', { title: rewardName(r) }), text: t('redeem'),
      onclick: function () { redeem(r, btn, box, points ? points() : null); }
    });
    return btn;
  }
  function redeem(r, btn, box, points) {
    if (busy(btn, true)) return;
    say(t('redeeming'));
    // One key per reward until the click is answered: a retry after a network error is the same redemption.
    var k = st.keys[r.id] || (st.keys[r.id] = key());
    var payload = { reward_id: r.id };
    if (points) payload.points = points;
    api('POST', '/redemptions', payload, { 'Idempotency-Key': k }).then(safe(function (res) {
      if (!res.offline) delete st.keys[r.id];
      busy(btn, false);
      var red = res.body.redemption;
      if (res.ok && red) return settle(red, box, 0);
      fill(box, [h('p', { class: 'msg', role: 'alert', text: errorText(res) }), backButton()]);
      focusIn(box);
    }));
  }
  function settle(red, box, tries) {
    var m = st.data.member;
    if (!tries && m && (red.state === 'reserved' || red.state === 'issued')) {
      // The points are debited when the answer comes, even if the shop is slow to make the coupon.
      m.available = Math.max(0, m.available - red.points);
      var el = body.querySelector('[data-lb="available"]');
      if (el) el.textContent = num(m.available);
      st.data.stale = true;
    }
    if (red.state === 'reserved' && tries < 20) {
      var wait = box.querySelector('[data-lb=wait]'), text = red.message || t('redeeming');
      if (wait) wait.textContent = text; // the same element: the focus stays on it while polling
      else { fill(box, [h('p', { class: 'msg', tabindex: '-1', 'data-lb': 'wait', 'data-focus': true, text: text })]); focusIn(box); }
      return setTimeout(function () {
        api('GET', '/redemptions/' + red.id).then(safe(function (res) {
          settle(res.ok && res.body.redemption ? res.body.redemption : red, box, tries + 1);
        }));
      }, 1000);
    }
    if (!red.code) {
      fill(box, [h('p', { class: 'msg', role: 'alert', text: red.message || t('error_generic') }), backButton()]);
      return focusIn(box);
    }
    fill(box, couponView(rewardName(red), red.code, red.expires_at).concat([backButton()]));
    focusIn(box);
    say(t('your_code') + ': ' + red.code);
  }
  function backButton() {
    return h('div', { class: 'row' }, [h('button', { type: 'button', class: 'btn alt', text: t('back'), onclick: function () { st.data = null; load(); } })]);
  }
  function couponView(name, code, expires) {
    var out = h('p', { class: 'mu', role: 'status' });
    var copyBtn = h('button', { type: 'button', class: 'btn', 'data-focus': true, text: t('copy'), onclick: function () { copy(code, copyBtn); } });
    return [
      h('h3', { tabindex: '-1', text: name ? t('your_code_for', { title: name }) : t('your_code') }),
      h('div', { class: 'code', 'data-lb': 'code', text: code }),
      expires ? h('p', { class: 'mu', text: t('expires', { date: date(expires) }) }) : null,
      h('div', { class: 'row' }, [
        copyBtn,
        isShop() ? h('button', { type: 'button', class: 'btn alt', text: t('apply_cart'), onclick: function (e) { applyToCart(code, e.currentTarget, out); } }) : null
      ]),
      out
    ];
  }
  function copy(text, btn) {
    function done() {
      btn.textContent = t('copied');
      say(t('copied'));
      setTimeout(function () { btn.textContent = t('copy'); }, 2500);
    }
    function fallback() {
      var area = h('textarea', { readonly: true, class: 'sr' });
      area.value = text;
      root.appendChild(area);
      area.select();
      var ok = false;
      try { ok = d.execCommand('copy'); } catch (e) { ok = false; }
      area.remove();
      if (ok) done(); else say(t('copy_failed'));
    }
    if (w.navigator.clipboard && w.navigator.clipboard.writeText) w.navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  }

  // -- the shop's own cart (WooCommerce Store API, same origin only) ---------------------------------------------
  function storeUrl() {
    try {
      var u = new URL(cfg.storeApi.replace(/\/+$/, '') + '/cart/apply-coupon', w.location.href);
      return u.origin === w.location.origin ? u.href : '';
    } catch (e) { return ''; }
  }
  function isShop() {
    return !!(storeUrl() && (ds.storeNonce || ds.storeApi || w.wcSettings || w.wcBlocksMiddlewareConfig));
  }
  function storeNonce() {
    var s = w.wcSettings || {}, b = w.wcBlocksMiddlewareConfig || {};
    return st.nonce || ds.storeNonce || s.storeApiNonce || b.storeApiNonce || s.nonce || '';
  }
  function applyToCart(code, btn, out) {
    var hs = { 'Content-Type': 'application/json' };
    var nonce = storeNonce(), cartToken = ds.cartToken || (w.wcSettings && w.wcSettings.cartToken);
    if (nonce) hs.Nonce = nonce;
    if (cartToken) hs['Cart-Token'] = cartToken;
    if (busy(btn, true)) return;
    request(storeUrl(), { method: 'POST', credentials: 'same-origin', headers: hs, body: JSON.stringify({ code: code }) })
      .then(safe(function (res) {
        busy(btn, false);
        var fresh = res.headers && res.headers.get('Nonce');
        if (fresh) st.nonce = fresh;
        if (res.ok) {
          out.textContent = t('applied');
          d.dispatchEvent(new CustomEvent('loyalty-bridge:coupon-applied', { detail: { code: code } }));
          try { w.wp.data.dispatch('wc/store/cart').invalidateResolutionForStore(); } catch (e) { /* not a blocks cart */ }
        } else out.textContent = t('apply_failed', { message: res.body.message || t('error_generic') });
      }));
  }

  // -- member tabs -----------------------------------------------------------------------------------------------------
  function earnList(ways) {
    var items = Array.isArray(ways) ? ways : ways && Array.isArray(ways.items) ? ways.items : null;
    var lines = [];
    if (items) {
      items.forEach(function (it) {
        if (typeof it === 'string') it = { title: it };
        var tr = it.i18n || {}, v = tr.vars || {};
        var name = wayText(tr.title, v) || it.title || it.name || it.label || '';
        var note = wayText(tr.description, v) || it.description || '';
        var pts = typeof it.points === 'number' && it.points > 0 ? h('strong', { text: '+' + tp('points', it.points) }) : null;
        if (name) lines.push(h('li', null, [h('div', null, [h('strong', { dir: 'auto', text: name }), note ? h('p', { class: 'mu', dir: 'auto', text: note }) : null]), pts]));
      });
    } else {
      var earn = club().earn || {};
      if (Number(earn.points_per_currency_unit) > 0) {
        lines.push(h('li', { text: tp('earn_per_unit', earn.points_per_currency_unit, { amount: money(1) }) }));
      }
      if (earn.signup_points > 0) lines.push(h('li', { text: tp('earn_signup', earn.signup_points) }));
    }
    return lines.length ? [h('ul', null, lines)] : [h('p', { class: 'mu', text: t('no_history') })];
  }
  function mine(items) {
    if (!items.length) return [h('p', { class: 'mu', text: t('no_rewards') })];
    return [h('ul', null, items.map(function (r) {
      var copyBtn = r.code && r.state === 'issued'
        ? h('button', { type: 'button', class: 'btn alt', 'aria-label': t('copy_named', { title: rewardName(r) }), text: t('copy'), onclick: function () { copy(r.code, copyBtn); } })
        : null;
      return h('li', null, [
        h('div', null, [
          h('strong', { text: rewardName(r) }),
          r.code ? h('div', { class: 'ltr', text: r.code }) : null,
          h('div', { class: 'mu', text: t('state_' + r.state) + (r.state === 'issued' ? ' \u00b7 ' + t('expires', { date: date(r.expires_at) }) : '') })
        ]),
        copyBtn
      ]);
    }))];
  }
  function history(entries) {
    if (!entries.length) return [h('p', { class: 'mu', text: t('no_history') })];
    return [h('ul', null, entries.map(function (e) {
      var what = t('kind_' + e.kind) + (e.cause_type === 'order' && e.cause_id ? ' \u00b7 ' + t('order', { id: e.cause_id }) : '');
      return h('li', null, [
        h('div', null, [h('div', { text: what }), h('div', { class: 'mu', text: date(e.created_at) + (e.state === 'pending' ? ' \u00b7 ' + t('pending') : '') })]),
        h('strong', { class: 'ltr', text: fmt(e.points, { signDisplay: 'exceptZero' }) })
      ]);
    }))];
  }
  function invite(r) {
    var offer = r.friend_offer && typeof r.friend_offer === 'object' ? r.friend_offer.title : r.friend_offer;
    var text = t('share_text', { club: club().name || '' });
    var copyBtn = h('button', { type: 'button', class: 'btn', text: t('copy'), 'aria-label': t('copy_link'), onclick: function () { copy(r.link, copyBtn); } });
    var field = h('input', { id: 'lb-ref-link', type: 'text', readonly: true, value: r.link, class: 'ltr', onfocus: function (e) { e.target.select(); } });
    var share;
    if (w.navigator.share) {
      share = [h('button', { type: 'button', class: 'btn alt', text: t('share'), onclick: function () {
        w.navigator.share({ title: club().name || '', text: text, url: r.link }).catch(function () { /* dismissed */ });
      } })];
    } else {
      var enc = encodeURIComponent;
      share = [
        h('a', { class: 'btn alt', href: 'mailto:?subject=' + enc(club().name || '') + '&body=' + enc(text + ' ' + r.link), text: t('share_email') }),
        h('a', { class: 'btn alt', href: 'https://wa.me/?text=' + enc(text + ' ' + r.link), target: '_blank', rel: 'noopener noreferrer', text: 'WhatsApp' }),
        h('a', { class: 'btn alt', href: 'https://t.me/share/url?url=' + enc(r.link) + '&text=' + enc(text), target: '_blank', rel: 'noopener noreferrer', text: 'Telegram' })
      ];
    }
    return [
      h('p', { text: offer ? t('invite_offer', { offer: offer }) : t('invite_intro') }),
      h('label', { for: 'lb-ref-link', class: 'mu', text: t('referral_link') }),
      field,
      h('div', { class: 'row' }, [copyBtn].concat(share)),
      r.points_earned != null ? h('p', { class: 'mu', text: t('referral_points', { points: num(r.points_earned) }) }) : null
    ];
  }

  // -- guest and friend --------------------------------------------------------------------------------------------
  function renderGuest() {
    var c = st.data.club || {}, earn = c.earn || {};
    var rewards = ((st.data.rewards && st.data.rewards.catalogue) || []).slice().sort(function (a, b) {
      return (a.points_cost || a.min_points || 0) - (b.points_cost || b.min_points || 0); // cheapest first
    });
    title.textContent = t('guest_title', { club: c.name || '' });
    var notice = st.notice;
    st.notice = '';
    fill(body, [
      notice ? h('p', { class: 'msg', role: 'alert', text: notice }) : null,
      h('p', { text: t('guest_intro') }),
      h('h3', { text: t('ways_to_earn') }),
      earnList(null)[0],
      rewards.length ? h('h3', { text: t('rewards') }) : null,
      rewards.length ? h('ul', null, rewards.map(function (r) {
        return h('li', null, [h('span', { text: rewardName(r) }), h('span', { class: 'mu', text: costText(r) })]);
      })) : null,
      h('div', { class: 'row' }, [
        cfg.signup ? h('a', { class: 'btn', href: cfg.signup, text: earn.signup_points ? tp('join_points', earn.signup_points) : t('join') }) : null,
        cfg.login ? h('a', { class: 'btn alt', href: cfg.login, text: t('sign_in') }) : null
      ])
    ]);
  }
  function renderFriend() {
    var o = st.data.offer || {};
    var name = st.data.referrer_first_name;
    title.textContent = name ? t('friend_title', { name: name }) : t('friend_title_anon');
    var email = h('input', { id: 'lb-email', type: 'email', required: true, autocomplete: 'email', class: 'ltr' });
    var out = h('div', { 'aria-live': 'polite' });
    var submit = h('button', { type: 'submit', class: 'btn', text: t('claim') });
    var form = h('form', { novalidate: true, onsubmit: function (e) {
      e.preventDefault();
      if (!email.value || !email.checkValidity()) { fill(out, [h('p', { class: 'msg', role: 'alert', text: t('email_invalid') })]); return email.focus(); }
      if (busy(submit, true)) return;
      publicApi('POST', '/referrals/claim', { shop: cfg.shop, code: ref, email: email.value.trim() }).then(safe(function (res) {
        busy(submit, false);
        if (!res.ok || !res.body.coupon) return fill(out, [h('p', { class: 'msg', role: 'alert', text: errorText(res) })]);
        var cp = res.body.coupon;
        try { w.sessionStorage.removeItem('lb-ref'); } catch (e2) { /* ignore */ }
        fill(body, couponView(cp.title || o.title, cp.code, cp.expires_at));
        focusIn(body);
        say(t('your_code') + ': ' + cp.code);
      }));
    } }, [
      h('label', { for: 'lb-email', text: t('your_email') }), email,
      h('div', { class: 'row' }, [submit])
    ]);
    fill(body, [
      o.title ? h('p', { class: 'mid', dir: 'auto', text: o.title }) : null,
      o.description ? h('p', { dir: 'auto', text: o.description }) : null,
      form, out
    ]);
  }

  // -- boot ----------------------------------------------------------------------------------------------------------
  var boot = safe(function () {
    mount();
    // The language file is asked for in the next task, so the launcher's frame is not held up by the fetch.
    langReady = new Promise(function (resolve) {
      setTimeout(function () {
        try { readRef(); loadLanguage().then(resolve); } catch (e) { warn(e); resolve(); }
      }, 0);
    });
    // Escape closes the open panel wherever the focus is (the panel's own handler stops it first when inside).
    d.addEventListener('keydown', safe(function (e) { if (e.key === 'Escape' && st.open) close(); }));
    w.LoyaltyBridge = Object.assign(g, { open: safe(open), close: safe(close), refresh: safe(function () { st.data = null; if (st.open) load(); }) });
  });
  if (d.body) boot();
  else d.addEventListener('DOMContentLoaded', boot);
})(window, document);
