/* The volunteers' pages: small improvements on top of plain HTML forms (everything works without it).
 * - drafts: a form with data-draft-key is saved to localStorage as she types and restored on reload;
 *   a page with body[data-clear-draft] (after a successful save) removes that draft;
 * - data-submit-once: the submit button is disabled after the first submit (the server also refuses
 *   a second submission of the same form);
 * - data-confirm on a form asks before submitting (withdraw);
 * - the team fields of the activity form show only for a team activity.
 */
(function () {
  "use strict";
  var SKIP = { csrfmiddlewaretoken: true, form_token: true };

  function storage() {
    try { var s = window.localStorage; s.setItem("aixinmama-probe", "1"); s.removeItem("aixinmama-probe"); return s; }
    catch (e) { return null; }
  }

  function serialise(form) {
    var data = {};
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.disabled || el.type === "submit" || el.type === "button") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) { data[el.name] = data[el.name] || []; return; }
      (data[el.name] = data[el.name] || []).push(el.value);
    });
    return data;
  }

  function restore(form, data) {
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || SKIP[el.name] || el.disabled || !(el.name in data)) return;
      var values = data[el.name];
      if (el.type === "checkbox" || el.type === "radio") { el.checked = values.indexOf(el.value) !== -1; }
      else if (el.type !== "submit" && el.type !== "button" && el.type !== "hidden") { el.value = values.length ? values[0] : ""; }
    });
  }

  function setupDraft(form, store) {
    var key = form.getAttribute("data-draft-key");
    var note = document.getElementById("draft-note");
    var saved = null;
    try { saved = JSON.parse(store.getItem(key) || "null"); } catch (e) { saved = null; }
    if (saved && saved.fields && form.getAttribute("data-has-errors") !== "1") {
      restore(form, saved.fields);
      if (note) {
        var when = note.querySelector("[data-draft-time]");
        if (when && saved.savedAt) { when.textContent = "(保存于 " + new Date(saved.savedAt).toLocaleString("zh-CN") + ")"; }
        note.hidden = false;
      }
    }
    function save() { store.setItem(key, JSON.stringify({ savedAt: Date.now(), fields: serialise(form) })); }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    var clear = document.getElementById("draft-clear");
    if (clear) {
      clear.addEventListener("click", function () {
        store.removeItem(key);
        form.reset();
        if (note) note.hidden = true;
        toggleTeamFields(form);
      });
    }
  }

  function toggleTeamFields(form) {
    var box = form.querySelector(".team-fields");
    if (!box) return;
    var team = form.querySelector('input[name="target"][value="team"]');
    box.hidden = !(team && team.checked);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var store = storage();
    var clearKey = document.body.getAttribute("data-clear-draft");
    if (store && clearKey) store.removeItem(clearKey);

    Array.prototype.forEach.call(document.querySelectorAll("form[data-draft-key]"), function (form) {
      if (store) setupDraft(form, store);
      toggleTeamFields(form);
      Array.prototype.forEach.call(form.querySelectorAll('input[name="target"]'), function (el) {
        el.addEventListener("change", function () { toggleTeamFields(form); });
      });
    });

    Array.prototype.forEach.call(document.querySelectorAll("form[data-submit-once]"), function (form) {
      form.addEventListener("submit", function () {
        if (form.getAttribute("data-submitting")) return;
        form.setAttribute("data-submitting", "1");
        Array.prototype.forEach.call(form.querySelectorAll('button[type="submit"]'), function (b) {
          window.setTimeout(function () { b.disabled = true; b.textContent = "正在提交…"; }, 0);
        });
      });
    });

    Array.prototype.forEach.call(document.querySelectorAll("form[data-confirm]"), function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
      });
    });
  });
})();
