// Style imports are bundled by Vite (side effects only).
declare module '*.css';
