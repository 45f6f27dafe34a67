// The <sakha-asr> element for pages that embed it with one script tag (README, "Widget"): the
// package's element, served from pkg/ with the app, loading by default the model served beside it.
import "./build-version.js";
import { SakhaAsrElement } from "./pkg/element.js";

SakhaAsrElement.defaultModel = new URL("./models/default/model.json", import.meta.url).href;
