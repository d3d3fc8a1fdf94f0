/* The compose page: live counter, number check, preview, and one submit only.
   Plain JavaScript, no dependencies. The counting itself is done on the server
   by the same estimate service the send uses, so the figures never disagree. */
(function () {
    "use strict";

    var DELAY = 250;

    function ready(fn) {
        if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
    }

    function csrfToken(form) {
        var input = form.querySelector("input[name=csrfmiddlewaretoken]");
        return input ? input.value : "";
    }

    function setupCounter(form) {
        var url = form.getAttribute("data-estimate-url");
        var counter = document.getElementById("smsgo-counter");
        var numbers = document.getElementById("smsgo-number-check");
        var timer = null;
        var sequence = 0;

        function refresh() {
            var mine = ++sequence;
            counter.classList.add("smsgo-busy");
            fetch(url, {
                method: "POST",
                body: new FormData(form),
                headers: { "X-CSRFToken": csrfToken(form), "X-Requested-With": "XMLHttpRequest" },
                credentials: "same-origin"
            }).then(function (response) {
                if (!response.ok) { throw new Error(response.status); }
                return response.json();
            }).then(function (data) {
                if (mine !== sequence) { return; }  // an older answer arriving late
                counter.innerHTML = data.counter_html;
                numbers.innerHTML = data.numbers_html;
                // The preview shows the text as it goes out (sender tag, opt-out line).
                var bubble = document.getElementById("smsgo-preview");
                if (bubble && data.body) { bubble.textContent = data.body; }
                counter.classList.remove("smsgo-busy");
                form.dispatchEvent(new CustomEvent("smsgo:estimate", { detail: data }));
            }).catch(function () {
                counter.classList.remove("smsgo-busy");
            });
        }

        function later() {
            clearTimeout(timer);
            timer = setTimeout(refresh, DELAY);
        }

        ["recipients", "body", "column", "wap_url"].forEach(function (name) {
            var field = form.elements[name];
            if (field) { field.addEventListener("input", later); }
        });
        ["recipients_file", "encoding", "reply", "drop_invalid", "kind", "send_at_0", "send_at_1"].forEach(function (name) {
            var field = form.elements[name];
            if (field) { field.addEventListener("change", refresh); }
        });
        if (form.elements.body && (form.elements.body.value || form.elements.recipients.value)) {
            refresh();
        }
    }

    function setupHalfWidth(form) {
        // The counter's hint: full-width letters, digits and signs typed half-width.
        var counter = document.getElementById("smsgo-counter");
        var body = form.elements.body;
        if (!counter || !body) { return; }
        counter.addEventListener("click", function (event) {
            var button = event.target.closest("[data-half-width]");
            if (!button) { return; }
            var from = Array.from(button.getAttribute("data-from"));
            var to = Array.from(button.getAttribute("data-to"));
            body.value = Array.from(body.value).map(function (char) {
                var at = from.indexOf(char);
                return at < 0 ? char : to[at];
            }).join("");
            body.dispatchEvent(new Event("input", { bubbles: true }));
        });
    }

    function setupPreview(form) {
        var body = form.elements.body;
        var bubble = document.getElementById("smsgo-preview");
        if (!body || !bubble) { return; }
        body.addEventListener("input", function () { bubble.textContent = body.value; });
    }

    function setupNumberCheck(form) {
        // The live check replaces what the last submit said about the numbers.
        var field = document.getElementById("smsgo-field-recipients");
        var drop = document.getElementById("smsgo-drop-invalid");
        form.addEventListener("smsgo:estimate", function (event) {
            var invalid = event.detail.invalid_count;
            if (drop) { drop.hidden = !invalid; }
            if (!invalid && event.detail.numbers && field) {
                // Only what the live check can judge: the numbers' validity. Any other
                // refusal (a duplicate send, a file that could not be read) stays.
                field.querySelectorAll(".errorlist li[data-code=invalid_numbers], .errorlist li[data-code=numbers]")
                    .forEach(function (item) { item.remove(); });
                field.querySelectorAll(".errorlist").forEach(function (list) {
                    if (!list.children.length) { list.remove(); }
                });
                if (!field.querySelector(".errorlist")) { field.classList.remove("smsgo-has-error"); }
                if (!form.querySelector(".errorlist")) {
                    form.querySelectorAll(".errornote").forEach(function (note) { note.remove(); });
                }
            }
        });
    }

    function toggle(field, show) {
        var box = document.getElementById("smsgo-field-" + field);
        if (box) { box.style.display = show ? "" : "none"; }
    }

    function setupOptions(form) {
        var encoding = form.elements.encoding;
        var reply = form.elements.reply;
        function apply() {
            toggle("wap_url", encoding && encoding.value === "PUSH" || !!(form.elements.wap_url && form.elements.wap_url.value));
            toggle("reply_days", reply && reply.checked);
        }
        if (encoding) { encoding.addEventListener("change", apply); }
        if (reply) { reply.addEventListener("change", apply); }
        apply();
    }

    function submitOnce(form) {
        form.addEventListener("submit", function (event) {
            if (form.getAttribute("data-submitted")) {
                event.preventDefault();
                return;
            }
            form.setAttribute("data-submitted", "1");
            var clicked = event.submitter;
            if (clicked && clicked.name) {
                // Keep the clicked button's name: disabled buttons are not submitted.
                var keep = document.createElement("input");
                keep.type = "hidden";
                keep.name = clicked.name;
                keep.value = clicked.value;
                form.appendChild(keep);
            }
            form.querySelectorAll("[type=submit]").forEach(function (button) { button.disabled = true; });
        });
    }

    ready(function () {
        var form = document.getElementById("smsgo-compose-form");
        if (form) {
            setupCounter(form);
            setupPreview(form);
            setupHalfWidth(form);
            setupNumberCheck(form);
            setupOptions(form);
            submitOnce(form);
        }
        document.querySelectorAll("form[data-smsgo-once]").forEach(submitOnce);
    });
})();
