// The potran book (book/_ext/potran_book.py): mark every container whose table is wider than it
// is, so that the style sheet (potran.css) shows the cue that it scrolls sideways.
(() => {
  const SELECTOR = ".potran-scroll, .pst-scrollable-table-container, div.cell_output .output.text_html";
  function mark() {
    document.querySelectorAll(SELECTOR).forEach((box) => {
      box.classList.toggle("potran-wide", box.scrollWidth > box.clientWidth + 1);
    });
  }
  window.addEventListener("load", mark);
  window.addEventListener("resize", mark);
  document.addEventListener("toggle", mark, true); // a <details> block opened or closed
})();
