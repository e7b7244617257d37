/* Frontdesk console behaviour, served as a file: the console's Content-Security-Policy
 * allows no inline script (no on* attributes, no hx-on, no eval), so every small
 * behaviour the pages need is declared with a data-* attribute and handled here. */
(function () {
  'use strict';

  // <form data-confirm="Delete this?">: asks before submitting.
  document.addEventListener('submit', function (e) {
    const form = e.target;
    const question = form instanceof HTMLFormElement && form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener('change', function (e) {
    const t = e.target;
    // <input type="checkbox" data-select-all="CSS">: checks or clears every match.
    const sel = t instanceof HTMLInputElement && t.getAttribute('data-select-all');
    if (sel) {
      for (const c of document.querySelectorAll(sel)) c.checked = t.checked;
    }
    // <select data-action-prefix="/a/" data-action-suffix="/b">: the form posts to prefix + value + suffix.
    if (t instanceof HTMLSelectElement && t.hasAttribute('data-action-prefix') && t.form) {
      t.form.action = t.getAttribute('data-action-prefix') + encodeURIComponent(t.value) +
        (t.getAttribute('data-action-suffix') || '');
    }
  });

  // <form data-upload-errors> with a [data-upload-error] element: says why an htmx upload failed.
  function uploadError(e, text) {
    const form = e.detail && e.detail.elt;
    const box = form && form.closest && form.closest('[data-upload-errors]');
    const out = box && box.querySelector('[data-upload-error]');
    if (out) out.textContent = text;
  }
  document.addEventListener('htmx:responseError', function (e) {
    let m = '';
    try { m = JSON.parse(e.detail.xhr.responseText).message || ''; } catch (_) { /* not JSON */ }
    uploadError(e, 'The upload failed' + (m ? ': ' + m
      : ' (HTTP ' + e.detail.xhr.status + '). Reload the page and try again.'));
  });
  document.addEventListener('htmx:sendError', function (e) {
    uploadError(e, 'The upload did not reach the server. Check the connection and try again.');
  });

  // <form data-reset-on-success>: cleared after a successful htmx request.
  document.addEventListener('htmx:afterRequest', function (e) {
    const form = e.detail && e.detail.elt;
    if (e.detail.successful && form instanceof HTMLFormElement && form.hasAttribute('data-reset-on-success')) {
      form.reset();
    }
  });
})();
