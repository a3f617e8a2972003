// Endless scroll: when the "Older" link comes into view, fetch the next page from the
// API with the same cursor and append its cards. The link stays as the no-JS fallback.
(function () {
  "use strict";
  var list = document.getElementById("cards");
  var more = document.getElementById("more");
  if (!list || !more || !list.dataset.feed || !("IntersectionObserver" in window)) { return; }
  var cursor = more.dataset.cursor;
  var loading = false;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function card(item) {
    var li = el("li", { "class": "card" });
    var link = el("a", { href: "/a/" + item.id, "class": "card-link" });
    link.appendChild(el("img", { src: "/a/" + item.id + "/thumbnail.png", alt: "", loading: "lazy", width: "320", height: "180" }));
    link.appendChild(el("span", { "class": "title" }, item.title || "Untitled"));
    li.appendChild(link);
    var meta = el("span", { "class": "meta" });
    meta.appendChild(el("a", { href: "/u/" + item.owner }, "@" + item.owner));
    meta.appendChild(document.createTextNode(" · " + item.frame_count + " frame" + (item.frame_count === 1 ? "" : "s") +
      " · " + item.views + " view" + (item.views === 1 ? "" : "s")));
    li.appendChild(meta);
    if (item.tags && item.tags.length) {
      var tags = el("span", { "class": "tags" });
      item.tags.slice(0, 4).forEach(function (tag) {
        tags.appendChild(el("a", { href: "/?tag=" + encodeURIComponent(tag) }, "#" + tag));
        tags.appendChild(document.createTextNode(" "));
      });
      li.appendChild(tags);
    }
    return li;
  }

  function load() {
    if (loading || !cursor) { return; }
    loading = true;
    more.textContent = "Loading…";
    window.asciihub.api("GET", list.dataset.feed + "&cursor=" + encodeURIComponent(cursor)).then(function (page) {
      page.items.forEach(function (item) { list.appendChild(card(item)); });
      cursor = page.next_cursor;
      loading = false;
      if (cursor) {
        more.href = more.href.replace(/cursor=[^&]*/, "cursor=" + encodeURIComponent(cursor));
        more.textContent = "Older →";
        // Still in view (a short page on a tall screen): the observer will not fire again.
        if (more.getBoundingClientRect().top < window.innerHeight + 400) { load(); }
      } else {
        more.parentNode.removeChild(more);
        observer.disconnect();
      }
    }, function (err) {
      loading = false;
      more.textContent = "Older → (" + err.message + ")";
    });
  }

  var observer = new IntersectionObserver(function (entries) {
    if (entries.some(function (e) { return e.isIntersecting; })) { load(); }
  }, { rootMargin: "400px" });
  observer.observe(more);
})();
