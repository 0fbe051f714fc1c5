;; interp: an interpreter for a small Scheme subset running a fib of n
;; (default n = 24) and a tail loop of 10,000 * n iterations calling
;; closures; see interp.omni. The program is analysed into nodes,
;; simple-vectors tagged by a keyword; `ev` is one `case` on the tag; a
;; frame is a simple-vector #(parent v1 ... vn), a closure #(:closure
;; lambda-node frame). The interpreted booleans are t and nil. Size: n.

;; ---------------------------------------------------------------- analysis

(defparameter *primitives* '((+ . 0) (- . 1) (* . 2) (quotient . 3) (remainder . 4)
                             (= . 5) (< . 6) (> . 7) (<= . 8) (>= . 9)))
(defun prim-code (op) (and (symbolp op) (cdr (assoc op *primitives*))))

;; Each global is a cons (name . value); a name used before its define gets its cons then.
(defvar *unbound* (list 'unbound))
(defvar *globals* '())
(defun global-cell (name)
  (or (assoc name *globals*)
      (let ((fresh (cons name *unbound*)))
        (push fresh *globals*)
        fresh)))

;; scope: the names of each enclosing frame, innermost first. The position
;; of a name in a frame counts from 1 (slot 0 is the parent).
(defun resolve (name scope depth)
  (if (null scope)
      (vector :global (global-cell name))
      (let ((i (position name (car scope))))
        (if i (vector :local depth (+ i 1)) (resolve name (cdr scope) (+ depth 1))))))

(defun analyze-all (xs scope) (map 'simple-vector (lambda (x) (analyze x scope)) xs))

(defun form-p (x head n) (and (consp x) (eq (car x) head) (= (length x) n)))

(defun analyze (x scope)
  (cond ((integerp x) (vector :const x))
        ((symbolp x) (resolve x scope 0))
        ((form-p x 'if 4)
         (vector :if (analyze (second x) scope) (analyze (third x) scope) (analyze (fourth x) scope)))
        ((form-p x 'lambda 3)
         (vector :lambda (length (second x)) (analyze (third x) (cons (second x) scope))))
        ((form-p x 'let 3)
         (vector :let (analyze-all (mapcar #'second (second x)) scope)
                 (analyze (third x) (cons (mapcar #'first (second x)) scope))))
        ((and (consp x) (= (length x) 3) (prim-code (car x)))
         (vector :prim (prim-code (car x)) (analyze (second x) scope) (analyze (third x) scope)))
        ((consp x) (vector :app (analyze (car x) scope) (analyze-all (cdr x) scope)))
        (t (error "interp: bad expression ~S" x))))

;; ---------------------------------------------------------------- evaluation

(defun frame-at (env depth) (if (= depth 0) env (frame-at (svref env 0) (- depth 1))))

(defun prim (op x y)
  (case op
    (0 (+ x y))
    (1 (- x y))
    (2 (* x y))
    (3 (truncate x y))
    (4 (rem x y))
    (5 (= x y))
    (6 (< x y))
    (7 (> x y))
    (8 (<= x y))
    (t (>= x y))))

;; A new frame #(parent v1 ... vn) holding the values of the nodes inits,
;; evaluated left to right in env.
(defun new-frame (parent inits env)
  (let* ((n (length inits)) (frame (make-array (+ n 1) :initial-element parent)))
    (dotimes (i n) (setf (svref frame (+ i 1)) (ev (svref inits i) env)))
    frame))

(defun closure-p (v) (and (simple-vector-p v) (eq (svref v 0) :closure)))

(defun ev (e env)
  (case (svref e 0)
    (:const (svref e 1))
    (:local (svref (frame-at env (svref e 1)) (svref e 2)))
    (:global (let ((v (cdr (svref e 1))))
               (if (eq v *unbound*) (error "interp: unbound variable ~A" (car (svref e 1))) v)))
    (:if (if (ev (svref e 1) env) (ev (svref e 2) env) (ev (svref e 3) env)))
    (:lambda (vector :closure e env))
    (:let (ev (svref e 2) (new-frame env (svref e 1) env)))
    (:prim (let* ((x (ev (svref e 2) env)) (y (ev (svref e 3) env)))
             (prim (svref e 1) x y)))
    (:app (let ((f (ev (svref e 1) env)) (args (svref e 2)))
            (cond ((not (closure-p f)) (error "interp: not a procedure ~A" (show f)))
                  ((/= (svref (svref f 1) 1) (length args))
                   (error "interp: wrong number of arguments ~D" (length args)))
                  (t (ev (svref (svref f 1) 2) (new-frame (svref f 2) args env))))))))

(defun show (v)
  (cond ((integerp v) (princ-to-string v))
        ((eq v t) "#t")
        ((null v) "#f")
        (t "#<procedure>")))

;; Top-level forms: (define name expr) sets the global, any other form is
;; evaluated and its value printed.
(defun run (forms)
  (dolist (form forms)
    (if (form-p form 'define 3)
        (setf (cdr (global-cell (second form))) (ev (analyze (third form) '()) (vector)))
        (println (show (ev (analyze form '()) (vector)))))))

(defun program (n)
  `((define fib (lambda (n) (if (< n 2) n (+ (fib (- n 1)) (fib (- n 2))))))
    (define make-adder (lambda (k) (lambda (x) (+ x k))))
    (define twice (lambda (f x) (f (f x))))
    (define loop
      (lambda (i acc add)
        (if (= i 0)
            acc
            (let ((r (remainder i 7))) (loop (- i 1) (if (< r 3) (twice add acc) (- acc 1)) add)))))
    (define size ,n)
    (fib size)
    (loop (* size 10000) 0 (make-adder 3))
    (< (fib 10) (* 5 11))))

(run (program (arg-or 24)))
