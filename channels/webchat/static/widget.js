/*!
 * contact-hub chat widget loader.
 *
 * Paste into any page:
 *   <script src="https://HUB/widget.js" async></script>
 *
 * Adds a floating launcher button (bottom-right) that opens the hub's chat box
 * (HUB/chat?embed=1) in an iframe. Defines no globals; all styles are set from here so the host
 * page's CSS is not needed (and the host page is not affected).
 */
(function () {
  "use strict";

  var LAUNCHER_ID = "contact-hub-launcher";
  var FRAME_ID = "contact-hub-frame";
  var MINIMISE = "contact-hub:minimise";
  var Z = "2147483000";

  function findScriptSrc() {
    var current = document.currentScript;
    if (current && current.src) return current.src;
    // Fallback for browsers/loaders without document.currentScript.
    var scripts = document.getElementsByTagName("script");
    for (var i = scripts.length - 1; i >= 0; i--) {
      var src = scripts[i].src || "";
      if (/\/widget\.js(?:[?#].*)?$/.test(src)) return src;
    }
    return null;
  }

  var hubOrigin;
  try {
    var src = findScriptSrc();
    if (!src) return;
    hubOrigin = new URL(src, window.location.href).origin;
    if (!hubOrigin || hubOrigin === "null") return;
  } catch (e) {
    return;
  }

  function setStyles(node, styles) {
    for (var key in styles) {
      if (Object.prototype.hasOwnProperty.call(styles, key)) {
        try {
          node.style.setProperty(key, styles[key], "important");
        } catch (e) {
          /* ignore unsupported properties */
        }
      }
    }
  }

  var CHAT_ICON =
    "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var CLOSE_ICON = "M6 6l12 12M18 6L6 18";

  function makeIcon(path, filled) {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", path);
    if (filled) {
      p.setAttribute("fill", "currentColor");
    } else {
      p.setAttribute("fill", "none");
      p.setAttribute("stroke", "currentColor");
      p.setAttribute("stroke-width", "2.5");
      p.setAttribute("stroke-linecap", "round");
    }
    svg.appendChild(p);
    setStyles(svg, { display: "block", "pointer-events": "none" });
    return svg;
  }

  function init() {
    if (!document.body || document.getElementById(LAUNCHER_ID)) return; // loaded twice: keep the first

    var launcher = null;
    var frame = null;
    var isOpen = false;
    var chatIcon = makeIcon(CHAT_ICON, true);
    var closeIcon = makeIcon(CLOSE_ICON, false);

    launcher = document.createElement("button");
    launcher.id = LAUNCHER_ID;
    launcher.type = "button";
    launcher.setAttribute("aria-label", "Open chat");
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-controls", FRAME_ID);
    launcher.title = "Chat with us";
    launcher.appendChild(chatIcon);
    setStyles(launcher, {
      position: "fixed",
      right: "20px",
      bottom: "20px",
      left: "auto",
      top: "auto",
      "z-index": Z,
      width: "60px",
      height: "60px",
      "min-width": "0",
      "min-height": "0",
      margin: "0",
      padding: "0",
      border: "0",
      "border-radius": "50%",
      background: "#2563eb",
      color: "#ffffff",
      "box-shadow": "0 6px 20px rgba(15, 23, 42, 0.25)",
      cursor: "pointer",
      display: "flex",
      "align-items": "center",
      "justify-content": "center",
      outline: "none",
      transition: "transform 0.15s ease, background-color 0.15s ease",
      "-webkit-tap-highlight-color": "transparent",
      "box-sizing": "border-box",
      opacity: "1",
      visibility: "visible",
      transform: "none",
      "font-size": "0",
      "line-height": "0",
    });

    function focusRing(on) {
      setStyles(launcher, {
        "box-shadow": on
          ? "0 0 0 3px #ffffff, 0 0 0 6px #2563eb, 0 6px 20px rgba(15, 23, 42, 0.25)"
          : "0 6px 20px rgba(15, 23, 42, 0.25)",
      });
    }
    launcher.addEventListener("focus", function () {
      var visible = true;
      try {
        visible = launcher.matches(":focus-visible");
      } catch (e) {
        /* old browser: always show the ring */
      }
      focusRing(visible);
    });
    launcher.addEventListener("blur", function () {
      focusRing(false);
    });
    launcher.addEventListener("mouseenter", function () {
      setStyles(launcher, { background: "#1d4ed8" });
    });
    launcher.addEventListener("mouseleave", function () {
      setStyles(launcher, { background: "#2563eb" });
    });

    function isSmallScreen() {
      try {
        return window.matchMedia("(max-width: 480px)").matches;
      } catch (e) {
        return false;
      }
    }

    function layoutFrame() {
      if (!frame) return;
      if (isSmallScreen()) {
        // Phones: the chat takes the whole screen; the close button inside the chat minimises.
        setStyles(frame, {
          right: "0",
          bottom: "0",
          left: "0",
          top: "0",
          width: "100%",
          height: "100%",
          "max-height": "none",
          "border-radius": "0",
        });
        setStyles(launcher, { display: isOpen ? "none" : "flex" });
      } else {
        setStyles(frame, {
          right: "20px",
          bottom: "92px",
          left: "auto",
          top: "auto",
          width: "380px",
          "max-width": "calc(100vw - 40px)",
          height: "600px",
          "max-height": "calc(100vh - 120px)",
          "border-radius": "16px",
        });
        setStyles(launcher, { display: "flex" });
      }
    }

    function createFrame() {
      frame = document.createElement("iframe");
      frame.id = FRAME_ID;
      frame.title = "Chat with us";
      frame.src =
        hubOrigin + "/chat?embed=1&site=" + encodeURIComponent(window.location.host);
      frame.setAttribute("allow", "clipboard-write");
      frame.setAttribute("referrerpolicy", "strict-origin-when-cross-origin");
      setStyles(frame, {
        position: "fixed",
        "z-index": Z,
        border: "0",
        margin: "0",
        padding: "0",
        background: "#ffffff",
        "box-shadow": "0 12px 40px rgba(15, 23, 42, 0.3)",
        "color-scheme": "normal",
        display: "none",
        opacity: "1",
        visibility: "visible",
        transform: "none",
        "box-sizing": "border-box",
      });
      document.body.appendChild(frame);
      layoutFrame();
    }

    function open() {
      if (!frame) createFrame();
      isOpen = true;
      setStyles(frame, { display: "block" });
      layoutFrame();
      launcher.setAttribute("aria-expanded", "true");
      launcher.setAttribute("aria-label", "Close chat");
      launcher.replaceChild(closeIcon, chatIcon);
      try {
        frame.focus();
      } catch (e) {
        /* ignore */
      }
    }

    function close() {
      if (!frame) return;
      isOpen = false;
      setStyles(frame, { display: "none" });
      layoutFrame();
      launcher.setAttribute("aria-expanded", "false");
      launcher.setAttribute("aria-label", "Open chat");
      if (closeIcon.parentNode === launcher) launcher.replaceChild(chatIcon, closeIcon);
      try {
        launcher.focus();
      } catch (e) {
        /* ignore */
      }
    }

    launcher.addEventListener("click", function () {
      if (isOpen) close();
      else open();
    });

    window.addEventListener("message", function (event) {
      if (event.origin !== hubOrigin) return;
      if (frame && event.source && event.source !== frame.contentWindow) return;
      var data = event.data;
      if (data && typeof data === "object" && data.type === MINIMISE && isOpen) close();
    });

    window.addEventListener("resize", function () {
      if (isOpen) layoutFrame();
    });

    document.body.appendChild(launcher);
  }

  try {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () {
        try {
          init();
        } catch (e) {
          /* never break the host page */
        }
      });
    } else {
      init();
    }
  } catch (e) {
    /* never break the host page */
  }
})();
