// Search in the browser with Pagefind: no server. The query is folded the way the index was
// (Traditional/Hong Kong → Simplified, full-width → half-width, lower case; the same table the
// archive's search uses, shipped as assets/fold.json), so 碼頭, 码头 and 碼头 all find the same
// words; English and Chinese glossary terms are searched in the other language too.
(function () {
  "use strict";
  var body = document.body;
  var root = body.dataset.root || "";
  var lang = body.dataset.lang || "zh";
  var prefix = lang === "en" ? "en/" : "";
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-input");
  var out = document.getElementById("results");
  var home = document.getElementById("home-content");
  var TEXT = {
    zh: { searching: "搜尋中…", none: "找不到結果。", found: "個項目", also: "亦搜尋了：",
          failed: "搜尋未能載入：", nojs: "" },
    en: { searching: "Searching…", none: "No results.", found: " items", also: "Also searched: ",
          failed: "Search could not load: ", nojs: "" }
  }[lang];
  var MAX_ITEMS = 20;
  var HITS_PER_ITEM = 3;

  // A permalink of the portal, ?item=ID&t=SECONDS, works on the mirror too.
  var params = new URLSearchParams(location.search);
  var wanted = params.get("item");
  if (wanted && /^[a-z0-9]{4,40}$/.test(wanted)) {
    var t = params.get("t");
    var hash = t && /^[0-9]+(\.[0-9]+)?$/.test(t) ? "#t=" + t : "";
    location.replace(root + prefix + "items/" + wanted + ".html" + hash);
    return;
  }

  var ready = null;
  function load() {
    if (!ready) {
      ready = Promise.all([
        fetch(root + "assets/fold.json").then(function (r) { return r.json(); }),
        fetch(root + "assets/glossary.json").then(function (r) { return r.json(); }),
        import(new URL(root + "pagefind/pagefind.js", document.baseURI).href).then(function (pf) {
          return pf.init().then(function () { return pf; });
        })
      ]);
    }
    return ready;
  }

  function fold(text, table) {
    var result = [];
    for (var ch of text) {
      var mapped = table[ch];
      if (mapped === undefined) {
        var n = ch.normalize("NFKC");
        if (Array.from(n).length !== 1) n = ch;
        var lower = n.toLowerCase();
        mapped = Array.from(lower).length === 1 ? lower : n;
      }
      result.push(mapped);
    }
    return result; // one entry per character of the original: offsets line up
  }

  function escapeHtml(s) {
    return s.replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function escapeRegExp(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }

  function wordIn(haystack, form) {
    if (/^[\x00-\x7f]+$/.test(form)) {
      return new RegExp("(^|[^a-z0-9])" + escapeRegExp(form) + "($|[^a-z0-9])").test(haystack);
    }
    return haystack.indexOf(form) >= 0;
  }

  // Short abbreviations (SMW, ITF) are left out: Pagefind's forgiving matching finds them
  // inside unrelated words.
  function usable(form) { return form.length > 1 && !(/^[\x00-\x7f]+$/.test(form) && form.length < 4); }

  // Other searches for the same thing: each glossary entry named in the query, in its other forms.
  // Each is {query: folded, label: the form as the glossary writes it}.
  function expansions(folded, glossary) {
    var found = [];
    for (var i = 0; i < glossary.length && found.length < 10; i++) {
      var forms = glossary[i][0].concat(glossary[i][1]);
      var written = glossary[i][2].concat(glossary[i][3]);
      var hit = null;
      for (var j = 0; j < forms.length; j++) {
        if (usable(forms[j]) && wordIn(folded, forms[j]) && (!hit || forms[j].length > hit.length)) hit = forms[j];
      }
      if (!hit) continue;
      // Its other forms, then what the portal also searches for it (the English of longer
      // Chinese terms that contain it, the rest of an English word family): entries 4 and 5.
      var alsoForms = forms.concat(glossary[i][4] || []);
      var alsoWritten = written.concat(glossary[i][5] || []);
      for (var k = 0; k < alsoForms.length && found.length < 10; k++) {
        if (alsoForms[k] === hit || !usable(alsoForms[k])) continue;
        var other = folded.replace(hit, alsoForms[k]);
        if (other !== folded && !found.some(function (f) { return f.query === other; })) {
          found.push({ query: other, label: alsoWritten[k] });
        }
      }
    }
    return found;
  }

  function highlight(text, terms, table) {
    var chars = Array.from(text);
    var folded = fold(text, table);
    var marks = new Array(chars.length).fill(false);
    terms.forEach(function (term) {
      var t = Array.from(term);
      if (!t.length) return;
      for (var i = 0; i + t.length <= folded.length; i++) {
        var same = true;
        for (var j = 0; j < t.length && same; j++) same = folded[i + j] === t[j];
        if (same) for (var m = 0; m < t.length; m++) marks[i + m] = true;
      }
    });
    var html = "";
    var open = false;
    for (var i = 0; i < chars.length; i++) {
      if (marks[i] && !open) { html += "<mark>"; open = true; }
      if (!marks[i] && open) { html += "</mark>"; open = false; }
      html += escapeHtml(chars[i]);
    }
    return html + (open ? "</mark>" : "");
  }

  function clock(seconds) {
    var s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h ? h + ":" + two(m) : two(m)) + ":" + two(r);
  }

  function target(url) {
    // Pagefind keeps the URL it was given ("items/ID.html#t=12"), perhaps with a leading slash.
    return root + prefix + url.replace(/^\/+/, "");
  }

  function render(query, terms, extra, items, table) {
    if (!items.length) {
      out.innerHTML = '<p class="status">' + TEXT.none + "</p>";
      return;
    }
    var html = '<p class="status">' + items.length + TEXT.found;
    if (extra.length) {
      html += " · " + TEXT.also + extra.slice(0, 3).map(function (e) { return escapeHtml(e.label); }).join("、") +
        (extra.length > 3 ? "…" : "");
    }
    html += '</p><ol class="results">';
    items.forEach(function (item) {
      var meta = item.meta || {};
      var first = lang === "en" ? (meta.title_en || meta.title_zh) : (meta.title_zh || meta.title_en);
      var second = lang === "en" ? meta.title_zh : meta.title_en;
      html += '<li class="result" data-item="' + escapeHtml(meta.item || "") + '">';
      html += '<a class="title" href="' + escapeHtml(target(item.url)) + '">' + highlight(first || "", terms, table) + "</a>";
      if (second && second !== first) html += ' <span class="second">' + highlight(second, terms, table) + "</span>";
      if (meta.date) html += ' <span class="date">' + escapeHtml(meta.date) + "</span>";
      var hits = (item.sub_results || []).filter(function (s) { return /#t=/.test(s.url); });
      hits.sort(function (a, b) { return (b.locations || []).length - (a.locations || []).length; });
      hits = hits.slice(0, HITS_PER_ITEM);
      if (hits.length) {
        html += '<ul class="hits">';
        hits.forEach(function (hit) {
          var seconds = parseFloat(/#t=([0-9.]+)/.exec(hit.url)[1]);
          html += '<li><a class="hit" href="' + escapeHtml(target(hit.url)) + '"><span class="ts">' + clock(seconds) +
            "</span>" + highlight(hit.title || "", terms, table) + "</a></li>";
        });
        html += "</ul>";
      }
      html += "</li>";
    });
    out.innerHTML = html + "</ol>";
  }

  function search(query) {
    query = (query || "").trim();
    if (!query) {
      out.innerHTML = "";
      if (home) home.hidden = false;
      return Promise.resolve();
    }
    if (home) home.hidden = true;
    out.innerHTML = '<p class="status">' + TEXT.searching + "</p>";
    body.dataset.searchState = "searching";
    return load().then(function (loaded) {
      var table = loaded[0], glossary = loaded[1], pagefind = loaded[2];
      var folded = fold(query, table).join("");
      var extra = expansions(folded, glossary);
      var queries = [folded].concat(extra.map(function (e) { return e.query; }));
      return Promise.all(queries.map(function (q) { return pagefind.search(q); })).then(function (all) {
        // One entry per item, in the order first found; its sentences are gathered from every
        // search that found it (the English words may match its title, the glossary's Chinese
        // form the sentence).
        var groups = {}, order = [];
        all.forEach(function (found) {
          (found && found.results || []).forEach(function (r) {
            if (!groups[r.id]) {
              if (order.length >= MAX_ITEMS) return;
              groups[r.id] = [];
              order.push(r.id);
            }
            groups[r.id].push(r);
          });
        });
        return Promise.all(order.map(function (id) {
          // One after the other: Pagefind hands every search the same cached object for a page
          // and overwrites its sentences, so each search's are taken before the next is asked.
          var byUrl = {}, subs = [], first = null;
          return groups[id].reduce(function (done, r) {
            return done.then(function () { return r.data(); }).then(function (d) {
              first = first || Object.assign({}, d);
              (d.sub_results || []).slice().forEach(function (sub) {
                var seen = byUrl[sub.url];
                if (seen === undefined) { byUrl[sub.url] = subs.length; subs.push(sub); }
                else if ((sub.locations || []).length > (subs[seen].locations || []).length) subs[seen] = sub;
              });
            });
          }, Promise.resolve()).then(function () {
            return Object.assign(first, { sub_results: subs });
          });
        })).then(function (items) {
          var terms = queries.join(" ").split(/\s+/).filter(function (t) { return t.length > 0; });
          render(query, terms, extra, items, table);
          body.dataset.searchState = "done";
        });
      });
    }).catch(function (error) {
      out.innerHTML = '<p class="status">' + TEXT.failed + escapeHtml(String(error)) + "</p>";
      body.dataset.searchState = "failed";
    });
  }

  if (form && input) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = input.value;
      var url = new URL(location.href);
      if (q.trim()) url.searchParams.set("q", q); else url.searchParams.delete("q");
      history.replaceState(null, "", url);
      search(q);
    });
    var initial = params.get("q");
    if (initial) {
      input.value = initial;
      search(initial);
    }
  }
})();
