/* The compose page's choice of a saved text (常用簡訊): choosing one puts its text and kind
   into the form; the live counter (compose.js) then counts the longest filled-in text. */
(function () {
    "use strict";

    function ready(fn) {
        if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
    }

    ready(function () {
        var form = document.getElementById("smsgo-compose-form");
        var select = form && form.elements.saved_text;
        var body = form && form.elements.body;
        if (!select || !body) { return; }
        select.addEventListener("change", function () {
            var option = select.options[select.selectedIndex];
            var text = option ? option.getAttribute("data-body") : null;
            if (text !== null) {
                body.value = text;
                var kind = option.getAttribute("data-kind");
                if (kind && form.elements.kind) { form.elements.kind.value = kind; }
            }
            // The counter and the preview follow the text box.
            body.dispatchEvent(new Event("input", { bubbles: true }));
        });
    });
})();
