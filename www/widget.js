// The <sakha-asr> element for pages that embed it with one script tag (README, "Widget"): the
// package's element, served from pkg/ with the app.
import "./pkg/element.js";
