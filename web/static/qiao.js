// "/" focuses the search box, as on many search sites; the page works without this file.
document.addEventListener("keydown", function (event) {
  if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var box = document.getElementById("q");
  if (!box) return;
  event.preventDefault();
  box.focus();
  box.select();
});

// Suggestions while typing: a listbox under the search box (the ARIA combobox pattern). Without
// this script the box is a plain search box; nothing here is needed to search.
(function () {
  var form = document.querySelector("form.searchbox[data-suggest]");
  var box = form && document.getElementById("q");
  if (!box) return;
  var list = document.createElement("ul");
  var status = document.createElement("div");
  var items = [];
  var active = -1;
  var asked = 0;
  var timer = null;

  list.id = "q-suggestions";
  list.className = "suggestions";
  list.setAttribute("role", "listbox");
  list.setAttribute("aria-label", form.dataset.listLabel);
  list.hidden = true;
  status.className = "visually-hidden";
  status.setAttribute("role", "status");
  box.after(list, status);
  box.setAttribute("role", "combobox");
  box.setAttribute("aria-autocomplete", "list");
  box.setAttribute("aria-controls", list.id);
  box.setAttribute("aria-expanded", "false");

  function close() {
    list.hidden = true;
    list.replaceChildren();
    items = [];
    active = -1;
    box.setAttribute("aria-expanded", "false");
    box.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    if (active >= 0) list.children[active].setAttribute("aria-selected", "false");
    active = index;
    if (active < 0) {
      box.removeAttribute("aria-activedescendant");
      return;
    }
    var option = list.children[active];
    option.setAttribute("aria-selected", "true");
    option.scrollIntoView({block: "nearest"});
    box.setAttribute("aria-activedescendant", option.id);
  }

  function choose(item) {
    close();
    if (item.kind === "title" && item.id) {
      window.location.href = "/articles/" + item.id.split("/").map(encodeURIComponent).join("/");
      return;
    }
    box.value = item.text;
    form.requestSubmit ? form.requestSubmit() : form.submit();
  }

  function show(found) {
    close();
    items = found;
    found.forEach(function (item, i) {
      var option = document.createElement("li");
      var text = document.createElement("span");
      option.id = "q-suggestion-" + i;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.kind = item.kind;
      text.className = "text";
      text.textContent = item.text;
      option.append(text);
      if (item.kind === "title") {
        var kind = document.createElement("span");
        kind.className = "kind";
        kind.textContent = form.dataset.articleLabel;
        option.append(kind);
      }
      // mousedown, not click: the box keeps its focus, so its blur does not close the list first.
      option.addEventListener("mousedown", function (event) {
        event.preventDefault();
        choose(item);
      });
      list.append(option);
    });
    status.textContent = found.length ? form.dataset.countLabel.replace("{n}", found.length) : "";
    if (!found.length) return;
    list.style.left = box.offsetLeft + "px";
    list.style.top = box.offsetTop + box.offsetHeight + "px";
    list.style.width = box.offsetWidth + "px";
    list.hidden = false;
    box.setAttribute("aria-expanded", "true");
  }

  function ask() {
    var text = box.value;
    var mine = ++asked;
    if (!text.trim()) {
      close();
      return;
    }
    fetch(form.dataset.suggest + "?q=" + encodeURIComponent(text), {headers: {Accept: "application/json"}})
      .then(function (response) { return response.ok ? response.json() : {suggestions: []}; })
      .then(function (body) { if (mine === asked && document.activeElement === box) show(body.suggestions); })
      .catch(function () { if (mine === asked) close(); });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(ask, 120);
  }
  box.addEventListener("input", function (event) {
    if (!event.isComposing) later();  // not the pinyin of a character still being chosen
  });
  box.addEventListener("compositionend", later);
  box.addEventListener("keydown", function (event) {
    if (event.isComposing) return;  // a Chinese input method's own keys
    var open = !list.hidden && items.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!open) {
        if (event.key === "ArrowDown" && box.value.trim()) ask();
        return;
      }
      event.preventDefault();
      var step = event.key === "ArrowDown" ? 1 : -1;
      var next = active + step;
      highlight(next < -1 ? items.length - 1 : next >= items.length ? -1 : next);
    } else if (event.key === "Enter" && open && active >= 0) {
      event.preventDefault();
      choose(items[active]);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      asked++;
      close();
    }
  });
  box.addEventListener("blur", function () {
    asked++;
    close();
  });
})();
