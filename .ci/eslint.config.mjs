// ESLint's flat configuration for the published page's script (pytest_mpcompat/publish/page).
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: 2020,
      sourceType: "script",
      globals: globals.browser,
    },
    rules: {
      "eqeqeq": "error",
      "no-var": "error",
      "prefer-const": "error",
      "no-implicit-globals": "error",
      "strict": ["error", "function"],
      "no-shadow": "error",
      "no-use-before-define": ["error", {functions: false}],
      "max-len": ["error", {code: 120}],
      "max-lines-per-function": ["error", {max: 60}],
      // Scenario output is shown as text: never parsed as markup.
      "no-restricted-properties": ["error",
        {object: "document", property: "write"},
        {property: "innerHTML"}, {property: "outerHTML"}, {property: "insertAdjacentHTML"}],
    },
  },
];
